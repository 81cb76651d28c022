package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/thread"
)

// ExportSite walks a site's content for v from one snapshot: a read-only REPEATABLE READ transaction sees the
// database as it was at its first statement, whatever is written meanwhile. Comments come parents first (by
// depth), then oldest first: the SQLite store's order, so that an export reads the same from either.
func (db *DB) ExportSite(ctx context.Context, siteID int64, articleKey string, v thread.ExportVisitor) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(ptx pgx.Tx) error {
		tx := counted{ptx, &db.queries}
		articles, err := tx.Query(ctx, "SELECT "+articleColumns+` FROM articles WHERE site_id = $1 AND ($2 = '' OR key = $2)
			ORDER BY created_at, id`, siteID, articleKey)
		if err != nil {
			return err
		}
		var list []*thread.Article
		if err := each(articles, scanArticle, func(a *thread.Article) { list = append(list, a) }); err != nil {
			return err
		}
		for _, a := range list {
			if err := v.Article(a); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "SELECT "+qualified("c", commentColumns)+`, coalesce(r.display_name, '')
				FROM comments AS c LEFT JOIN readers AS r ON r.id = c.author_id WHERE c.article_id = $1 ORDER BY c.depth, c.created_at, c.id`, a.ID)
			if err != nil {
				return err
			}
			// Visited as they are read: an article's comments may be many, and the visitor writes them out.
			var author string
			scan := func(row scanner) (*thread.Comment, error) { return scanCommentWith(row, &author) }
			var visitErr error
			err = each(rows, scan, func(c *thread.Comment) {
				if visitErr == nil {
					visitErr = v.Comment(c, author)
				}
			})
			if err != nil {
				return err
			}
			if visitErr != nil {
				return visitErr
			}
		}
		appeals, err := tx.Query(ctx, appealQuery+` JOIN comments AS c ON c.id = ap.comment_id JOIN articles AS a ON a.id = c.article_id
			WHERE a.site_id = $1 AND ($2 = '' OR a.key = $2) ORDER BY ap.id`, siteID, articleKey)
		if err != nil {
			return err
		}
		var appealList []*thread.Appeal
		if err := each(appeals, scanAppeal, func(a *thread.Appeal) { appealList = append(appealList, a) }); err != nil {
			return err
		}
		for _, a := range appealList {
			if err := v.Appeal(a); err != nil {
				return err
			}
		}
		actions, err := tx.Query(ctx, "SELECT "+qualified("m", actionColumns)+`, coalesce(a.key, '') FROM moderation_actions AS m
			LEFT JOIN articles AS a ON a.id = m.article_id WHERE m.site_id = $1 AND ($2 = '' OR a.key = $2) ORDER BY m.id`, siteID, articleKey)
		if err != nil {
			return err
		}
		var key string
		var actionList []*thread.ModerationAction
		var keys []string
		err = each(actions, func(row scanner) (*thread.ModerationAction, error) {
			return scanActionWith(row, &key)
		}, func(a *thread.ModerationAction) { actionList, keys = append(actionList, a), append(keys, key) })
		if err != nil {
			return err
		}
		for i, a := range actionList {
			if err := v.Action(a, keys[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
