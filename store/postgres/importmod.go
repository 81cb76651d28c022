package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

// ImportModeration writes imported appeals, then moderation actions, in one transaction, each once.
func (db *DB) ImportModeration(ctx context.Context, siteID int64, source string, actions []thread.ImportAction, appeals []thread.ImportAppeal) (int, error) {
	written := 0
	err := db.inTx(ctx, func(tx queryer) error {
		written = 0
		if err := lockSite(ctx, tx, siteID); err != nil {
			return err
		}
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
			var author *int64
			if err := tx.QueryRow(ctx, "SELECT author_id FROM comments WHERE id = $1", comment).Scan(&author); err != nil || author == nil {
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				continue // its author deleted their account: nothing of the appeal is left to keep
			}
			var id int64
			if err := tx.QueryRow(ctx, "INSERT INTO appeals (comment_id, author_id, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
				comment, *author, ap.Text, ms(ap.At)).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE comments SET appeal_open = true WHERE id = $1", comment); err != nil {
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
				err := tx.QueryRow(ctx, "SELECT id FROM articles WHERE site_id = $1 AND key = $2", siteID, a.ArticleKey).Scan(&act.ArticleID)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
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
					var author *int64
					if err := tx.QueryRow(ctx, "SELECT author_id FROM comments WHERE id = $1", id).Scan(&author); err != nil {
						return err
					}
					act.ReaderID = orZero(author)
				}
			}
			if act.Kind == thread.ActionAnswerAppeal && act.CommentID != 0 {
				err := tx.QueryRow(ctx, "SELECT id FROM appeals WHERE comment_id = $1", act.CommentID).Scan(&act.AppealID)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE comments SET appeal_open = false WHERE id = $1", act.CommentID); err != nil {
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
		if written == 0 {
			return nil
		}
		return eventlog.Append(ctx, tx, eventlog.Changed(siteID, 0))
	})
	return written, err
}
