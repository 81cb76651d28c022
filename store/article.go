package store

import (
	"context"
	"time"

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
	list, err := jsonList(keys)
	if err != nil || len(keys) == 0 {
		return out, err
	}
	rows, err := db.reader().QueryContext(ctx, "SELECT "+articleColumns+" FROM articles WHERE site_id = ? AND key IN (SELECT value FROM json_each(?))", siteID, list)
	if err != nil {
		return nil, err
	}
	return out, each(rows, scanArticle, func(a *thread.Article) { out[a.Key] = a })
}
