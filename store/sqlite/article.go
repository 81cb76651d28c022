package sqlite

import (
	"context"
	"time"

	"github.com/threadline/threadline/store/internal/columns"
	"github.com/threadline/threadline/thread"
)

const articleColumns = "id, site_id, key, url, title, standfirst, body, locked, comment_count, top_level_count, created_at"

func scanArticle(row interface{ Scan(...any) error }) (*thread.Article, error) {
	var a thread.Article
	var created int64
	err := row.Scan(&a.ID, &a.SiteID, &a.Key, &a.URL, &a.Title, &a.Standfirst, &a.Body, &a.Locked,
		&a.CommentCount, &a.TopLevelCount, &created)
	if err != nil {
		return nil, err
	}
	a.CreatedAt = time.UnixMilli(created).UTC()
	return &a, nil
}

// ArticleByKey returns the article of a site with the key.
func (db *DB) ArticleByKey(ctx context.Context, siteID int64, key string) (*thread.Article, error) {
	a, err := scanArticle(db.reader().QueryRowContext(ctx,
		"SELECT "+articleColumns+" FROM articles WHERE site_id = ? AND key = ?", siteID, key))
	return a, notFound(err, "article")
}

// ArticlesByID returns the articles with the IDs.
func (db *DB) ArticlesByID(ctx context.Context, ids []int64) (map[int64]*thread.Article, error) {
	return byID(ctx, db, "SELECT "+articleColumns+" FROM articles WHERE id", ids, scanArticle, func(a *thread.Article) int64 { return a.ID })
}

// ArticlesByKey returns the site's articles with the keys.
func (db *DB) ArticlesByKey(ctx context.Context, siteID int64, keys []string) (map[string]*thread.Article, error) {
	out := make(map[string]*thread.Article, len(keys))
	list, err := columns.JSONList(keys)
	if err != nil || len(keys) == 0 {
		return out, err
	}
	rows, err := db.reader().QueryContext(ctx, "SELECT "+articleColumns+" FROM articles WHERE site_id = ? AND key IN (SELECT value FROM json_each(?))", siteID, list)
	if err != nil {
		return nil, err
	}
	return out, each(rows, scanArticle, func(a *thread.Article) { out[a.Key] = a })
}

// CreateEmbeddedArticle creates the article a page's first embed asks for, marked as created by an embed, in
// one transaction: unless the site has an article with its key (created is false), or has had limit articles
// created by embeds since since (full is true, and nothing is created). The count is the database's, so the
// bound holds across restarts and across servers.
func (db *DB) CreateEmbeddedArticle(ctx context.Context, a *thread.Article, since time.Time, limit int) (created, full bool, err error) {
	err = db.inTx(ctx, func(tx queryer) error {
		var exists, recent int
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM articles WHERE site_id = ? AND key = ?),
			(SELECT count(*) FROM articles WHERE site_id = ? AND from_embed = 1 AND created_at >= ?)`,
			a.SiteID, a.Key, a.SiteID, since.UnixMilli()).Scan(&exists, &recent)
		switch {
		case err != nil || exists > 0:
			return err
		case recent >= limit:
			full = true
			return nil
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO articles (site_id, key, url, title, created_at, from_embed) VALUES (?, ?, ?, ?, ?, 1)`,
			a.SiteID, a.Key, a.URL, a.Title, a.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
		a.ID, err = res.LastInsertId()
		created = err == nil
		return err
	})
	return created, full, err
}
