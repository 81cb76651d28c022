package sqlite

import (
	"context"

	"github.com/threadline/threadline/thread"
)

// ImportArticle creates the article and its comments in one transaction, unless the site already has an
// article with its key; then it changes nothing and returns false. Each distinct author name becomes one
// reader of the site, without a token.
func (db *DB) ImportArticle(ctx context.Context, a *thread.Article, comments []thread.ImportedComment) (bool, error) {
	created := false
	err := db.inTx(ctx, func(tx queryer) error {
		var exists int
		err := tx.QueryRowContext(ctx, "SELECT count(*) FROM articles WHERE site_id = ? AND key = ?", a.SiteID, a.Key).Scan(&exists)
		if err != nil || exists > 0 {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO articles (site_id, key, url, title, standfirst, body, locked, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.SiteID, a.Key, a.URL, a.Title, a.Standfirst, a.Body, a.Locked, a.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		authors := map[string]int64{}
		ids := make([]int64, len(comments))
		for i, ic := range comments {
			c := &thread.Comment{ArticleID: a.ID, Body: ic.Body, BodyHTML: ic.BodyHTML, Status: thread.StatusPublished, CreatedAt: ic.CreatedAt}
			if ic.Parent > 0 {
				c.ParentID = ids[ic.Parent-1]
			}
			if ic.AuthorName != "" {
				if authors[ic.AuthorName] == 0 {
					r := &thread.Reader{SiteID: a.SiteID, DisplayName: ic.AuthorName, CreatedAt: ic.CreatedAt}
					if authors[ic.AuthorName], err = insertReader(ctx, tx, r, nil); err != nil {
						return err
					}
				}
				c.AuthorID = authors[ic.AuthorName]
			}
			if err := insertComment(ctx, tx, c); err != nil {
				return err
			}
			ids[i] = c.ID
		}
		created = true
		return nil
	})
	if err != nil {
		return false, err
	}
	// Re-read so that the caller sees the counts the comments left.
	if created {
		if all, err := db.ArticlesByID(ctx, []int64{a.ID}); err == nil && all[a.ID] != nil {
			*a = *all[a.ID]
		}
	}
	return created, nil
}
