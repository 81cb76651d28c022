package postgres

import (
	"context"
	"time"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

// articleColumns are an article's, read FROM articles (not aliased): its counts are its row's plus its
// shards' (see migration 0005), summed from the shards' primary key.
const articleColumns = "id, site_id, key, url, title, standfirst, body, locked, " +
	"comment_count + coalesce((SELECT sum(s.comment_count) FROM article_count_shards AS s WHERE s.article_id = articles.id), 0)::integer, " +
	"top_level_count + coalesce((SELECT sum(s.top_level_count) FROM article_count_shards AS s WHERE s.article_id = articles.id), 0)::integer, " +
	"created_at"

func scanArticle(row scanner) (*thread.Article, error) {
	var a thread.Article
	var created int64
	err := row.Scan(&a.ID, &a.SiteID, &a.Key, &a.URL, &a.Title, &a.Standfirst, &a.Body, &a.Locked,
		&a.CommentCount, &a.TopLevelCount, &created)
	if err != nil {
		return nil, err
	}
	a.CreatedAt = fromMs(created)
	return &a, nil
}

// ArticleByKey returns the article of a site with the key.
func (db *DB) ArticleByKey(ctx context.Context, siteID int64, key string) (*thread.Article, error) {
	a, err := scanArticle(db.reader().QueryRow(ctx,
		"SELECT "+articleColumns+" FROM articles WHERE site_id = $1 AND key = $2", siteID, key))
	return a, notFound(err, "article")
}

// ArticlesByID returns the articles with the IDs.
func (db *DB) ArticlesByID(ctx context.Context, ids []int64) (map[int64]*thread.Article, error) {
	return byID(ctx, db, "SELECT "+articleColumns+" FROM articles WHERE id", ids, scanArticle, func(a *thread.Article) int64 { return a.ID })
}

// ArticlesByKey returns the site's articles with the keys.
func (db *DB) ArticlesByKey(ctx context.Context, siteID int64, keys []string) (map[string]*thread.Article, error) {
	out := make(map[string]*thread.Article, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.reader().Query(ctx, "SELECT "+articleColumns+" FROM articles WHERE site_id = $1 AND key = ANY($2)", siteID, keys)
	if err != nil {
		return nil, err
	}
	return out, each(rows, scanArticle, func(a *thread.Article) { out[a.Key] = a })
}

// lockSite takes the site's row for the transaction, so that what counts the site's articles and then adds
// to them (first embeds, imports) runs one at a time per site, as it does on SQLite's single writer. It does
// not block readers, nor the foreign-key checks of other writes.
func lockSite(ctx context.Context, tx queryer, siteID int64) error {
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM sites WHERE id = $1 FOR NO KEY UPDATE", siteID).Scan(&id)
	return notFound(err, "site")
}

// CreateEmbeddedArticle creates the article a page's first embed asks for, marked as created by an embed, in
// one transaction: unless the site has an article with its key (created is false), or has had limit articles
// created by embeds since since (full is true, and nothing is created). The count is the database's, so the
// bound holds across restarts and across servers.
func (db *DB) CreateEmbeddedArticle(ctx context.Context, a *thread.Article, since time.Time, limit int) (created, full bool, err error) {
	err = db.inTx(ctx, func(tx queryer) error {
		created, full = false, false
		if err := lockSite(ctx, tx, a.SiteID); err != nil {
			return err
		}
		var exists, recent int
		err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM articles WHERE site_id = $1 AND key = $2),
			(SELECT count(*) FROM articles WHERE site_id = $1 AND from_embed AND created_at >= $3)`,
			a.SiteID, a.Key, ms(since)).Scan(&exists, &recent)
		switch {
		case err != nil || exists > 0:
			return err
		case recent >= limit:
			full = true
			return nil
		}
		err = tx.QueryRow(ctx, `INSERT INTO articles (site_id, key, url, title, created_at, from_embed) VALUES ($1, $2, $3, $4, $5, true) RETURNING id`,
			a.SiteID, a.Key, a.URL, a.Title, ms(a.CreatedAt)).Scan(&a.ID)
		if err != nil {
			return err
		}
		created = true
		return eventlog.Append(ctx, tx, eventlog.Changed(a.SiteID, 0))
	})
	return created, full, err
}
