package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/threadline/threadline/thread"
)

// ImportModeration writes imported appeals, then moderation actions, in one transaction, each once.
func (db *DB) ImportModeration(ctx context.Context, siteID int64, source string, actions []thread.ImportAction, appeals []thread.ImportAppeal) (int, error) {
	written := 0
	err := db.inTx(ctx, func(tx queryer) error {
		written = 0
		m := sourceMap{tx: tx, ctx: ctx, site: siteID, source: source}
		for _, ap := range appeals {
			done, err := m.imported("appeal", ap.SourceID)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			comment, ok, err := m.find("comment", ap.CommentID)
			if err != nil {
				return err
			}
			if !ok {
				continue // its comment is not in the import
			}
			var author sql.NullInt64
			if err := tx.QueryRowContext(ctx, "SELECT author_id FROM comments WHERE id = ?", comment).Scan(&author); err != nil || !author.Valid {
				continue // its author deleted their account: nothing of the appeal is left to keep
			}
			res, err := tx.ExecContext(ctx, "INSERT INTO appeals (comment_id, author_id, text, created_at) VALUES (?, ?, ?, ?)",
				comment, author.Int64, ap.Text, ap.At.UnixMilli())
			if err != nil {
				return err
			}
			id, _ := res.LastInsertId()
			if _, err := tx.ExecContext(ctx, "UPDATE comments SET appeal_open = 1 WHERE id = ?", comment); err != nil {
				return err
			}
			if err := m.record("appeal", ap.SourceID, id); err != nil {
				return err
			}
			written++
		}
		for _, a := range actions {
			done, err := m.imported("action", a.SourceID)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			act := a.Action(siteID)
			if a.ArticleKey != "" {
				err := tx.QueryRowContext(ctx, "SELECT id FROM articles WHERE site_id = ? AND key = ?", siteID, a.ArticleKey).Scan(&act.ArticleID)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			if a.CommentID != "" {
				id, ok, err := m.find("comment", a.CommentID)
				if err != nil {
					return err
				}
				if ok {
					act.CommentID = id
					var author sql.NullInt64
					if err := tx.QueryRowContext(ctx, "SELECT author_id FROM comments WHERE id = ?", id).Scan(&author); err != nil {
						return err
					}
					act.ReaderID = author.Int64
				}
			}
			if act.Kind == thread.ActionAnswerAppeal && act.CommentID != 0 {
				err := tx.QueryRowContext(ctx, "SELECT id FROM appeals WHERE comment_id = ?", act.CommentID).Scan(&act.AppealID)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				if _, err := tx.ExecContext(ctx, "UPDATE comments SET appeal_open = 0 WHERE id = ?", act.CommentID); err != nil {
					return err
				}
			}
			if err := appendAction(ctx, tx, act); err != nil {
				return err
			}
			if err := m.record("action", a.SourceID, act.ID); err != nil {
				return err
			}
			written++
		}
		return nil
	})
	return written, err
}
