package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/threadline/threadline/store/internal/columns"
	"github.com/threadline/threadline/thread"
)

// nullable turns a zero ID or time into NULL.
func nullable[T comparable](v T, sqlValue any) any {
	var zero T
	if v == zero {
		return nil
	}
	return sqlValue
}

func msOrNil(t time.Time) any { return nullable(t, t.UnixMilli()) }

// Moderate applies a moderation action and appends it to the log in one transaction.
func (db *DB) Moderate(ctx context.Context, a *thread.ModerationAction, change *thread.StatusChange) (*thread.Comment, error) {
	var out *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		var err error
		switch {
		case change != nil:
			out, err = changeStatus(ctx, tx, a, change)
		case a.Kind == thread.ActionLock || a.Kind == thread.ActionUnlock:
			_, err = tx.ExecContext(ctx, "UPDATE articles SET locked = ? WHERE id = ?", a.Kind == thread.ActionLock, a.ArticleID)
		case a.Kind == thread.ActionSuspend:
			_, err = tx.ExecContext(ctx, "UPDATE readers SET suspended_until = ?, suspension_reason = ? WHERE id = ?",
				a.Until.UnixMilli(), a.Note, a.ReaderID)
		}
		if err != nil {
			return err
		}
		return appendAction(ctx, tx, a)
	})
	return out, err
}

// changeStatus moves the action's comment as change says, checking its status in the transaction, so that two
// moderators acting at once cannot both succeed.
func changeStatus(ctx context.Context, tx queryer, a *thread.ModerationAction, change *thread.StatusChange) (*thread.Comment, error) {
	c, err := scanComment(tx.QueryRowContext(ctx, "SELECT "+commentColumns+" FROM comments WHERE id = ?", a.CommentID))
	if err != nil {
		return nil, notFound(err, "comment")
	}
	if err := change.Check(c, a.Kind); err != nil {
		return nil, err
	}
	if a.Kind == thread.ActionAnswerAppeal {
		if _, err := tx.ExecContext(ctx, "UPDATE comments SET appeal_open = 0 WHERE id = ?", c.ID); err != nil {
			return nil, err
		}
		c.AppealOpen = false
	}
	if change.To == "" {
		return c, nil
	}
	rule, note := change.Marks(a)
	updated, err := scanComment(tx.QueryRowContext(ctx, `UPDATE comments SET status = ?, rule = ?, note = ?, moderated_at = ?,
		report_count = CASE WHEN ? THEN 0 ELSE report_count END WHERE id = ? RETURNING `+commentColumns,
		change.To, rule, note, a.At.UnixMilli(), change.To == thread.StatusPublished, c.ID))
	if err != nil {
		return nil, err
	}
	return updated, count(ctx, tx, c, c.Status, change.To)
}

func appendAction(ctx context.Context, tx queryer, a *thread.ModerationAction) error {
	role := "moderator"
	if a.BySystem {
		role = "system"
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO moderation_actions
		(site_id, article_id, comment_id, reader_id, appeal_id, action, by_role, moderator, rule, note, decision, until, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.SiteID, nullable(a.ArticleID, a.ArticleID), nullable(a.CommentID, a.CommentID), nullable(a.ReaderID, a.ReaderID),
		nullable(a.AppealID, a.AppealID), a.Kind, role, a.Moderator, a.Rule, a.Note, a.Decision, msOrNil(a.Until), a.At.UnixMilli())
	if err != nil {
		return err
	}
	a.ID, err = res.LastInsertId()
	return err
}

// AddReport records a report and holds the comment when it reaches the threshold.
func (db *DB) AddReport(ctx context.Context, r *thread.Report, threshold int) (*thread.Comment, error) {
	var out *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO reports (comment_id, reader_id, rule, created_at) VALUES (?, ?, ?, ?)",
			r.CommentID, r.ReaderID, r.Rule, r.At.UnixMilli())
		if err != nil {
			return conflict(err, "you reported this comment already")
		}
		c, err := scanComment(tx.QueryRowContext(ctx, "UPDATE comments SET report_count = report_count + 1 WHERE id = ? RETURNING "+commentColumns, r.CommentID))
		if err != nil {
			return notFound(err, "comment")
		}
		out = c
		hold, change := thread.HoldAfterReports(c, r.Rule, r.At, threshold)
		if hold == nil {
			return nil
		}
		if err := tx.QueryRowContext(ctx, "SELECT site_id FROM articles WHERE id = ?", c.ArticleID).Scan(&hold.SiteID); err != nil {
			return err
		}
		if out, err = changeStatus(ctx, tx, hold, change); err != nil {
			return err
		}
		return appendAction(ctx, tx, hold)
	})
	return out, err
}

// AddAppeal records an author's one appeal of a comment.
func (db *DB) AddAppeal(ctx context.Context, a *thread.Appeal) error {
	return db.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO appeals (comment_id, author_id, text, created_at) VALUES (?, ?, ?, ?)",
			a.CommentID, a.AuthorID, a.Text, a.At.UnixMilli())
		if err != nil {
			return conflict(err, "this comment was appealed already: an author appeals once")
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE comments SET appeal_open = 1 WHERE id = ?", a.CommentID)
		return err
	})
}

const appealQuery = `SELECT ap.id, ap.comment_id, ap.author_id, ap.text, ap.created_at, ma.decision, ma.note, ma.created_at
	FROM appeals AS ap LEFT JOIN moderation_actions AS ma ON ma.appeal_id = ap.id AND ma.action = 'answer_appeal'`

func scanAppeal(row interface{ Scan(...any) error }) (*thread.Appeal, error) {
	var a thread.Appeal
	var created int64
	var decision, answer sql.NullString
	var answered sql.NullInt64
	if err := row.Scan(&a.ID, &a.CommentID, &a.AuthorID, &a.Text, &created, &decision, &answer, &answered); err != nil {
		return nil, err
	}
	a.At, a.AnsweredAt = time.UnixMilli(created).UTC(), optionalTime(answered)
	a.Decision, a.Answer = thread.Decision(decision.String), answer.String
	return &a, nil
}

// AppealsByComment returns the appeals about the comments, with their answers.
func (db *DB) AppealsByComment(ctx context.Context, ids []int64) (map[int64]*thread.Appeal, error) {
	return byID(ctx, db, appealQuery+" WHERE ap.comment_id", ids, scanAppeal, func(a *thread.Appeal) int64 { return a.CommentID })
}

// ReportRules counts, per comment, the rules its reports cited.
func (db *DB) ReportRules(ctx context.Context, ids []int64) (map[int64][]thread.RuleCount, error) {
	out := map[int64][]thread.RuleCount{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.reader().QueryContext(ctx, `SELECT comment_id, rule, count(*) FROM reports WHERE comment_id`+inIDs+`
		GROUP BY comment_id, rule ORDER BY comment_id, count(*) DESC, rule`, idList(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var rc thread.RuleCount
		if err := rows.Scan(&id, &rc.Rule, &rc.Count); err != nil {
			return nil, err
		}
		out[id] = append(out[id], rc)
	}
	return out, rows.Err()
}

// queued is the condition of the moderation queue, the same as its index's.
const queued = "(c.status = 'pending' OR c.report_count > 0 OR c.appeal_open = 1)"

// ModerationQueue returns pending and reported comments of a site, oldest first, and their total.
func (db *DB) ModerationQueue(ctx context.Context, siteID, articleID int64, req thread.PageRequest) ([]*thread.Comment, int, error) {
	var total int
	err := db.reader().QueryRowContext(ctx, `SELECT count(*) FROM comments AS c JOIN articles AS a ON a.id = c.article_id
		WHERE `+queued+` AND a.site_id = ? AND (? = 0 OR c.article_id = ?)`, siteID, articleID, articleID).Scan(&total)
	if err != nil {
		return nil, 0, err
	}
	after, args := "", []any{siteID, articleID, articleID}
	if req.After != nil {
		after, args = "AND (c.created_at, c.id) > (?, ?)", append(args, req.After.CreatedAt, req.After.ID)
	}
	rows, err := db.reader().QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM comments AS c JOIN articles AS a ON a.id = c.article_id
		WHERE %s AND a.site_id = ? AND (? = 0 OR c.article_id = ?) %s ORDER BY c.created_at, c.id LIMIT ?`,
		qualified("c", commentColumns), queued, after), append(args, req.First+1)...)
	if err != nil {
		return nil, 0, err
	}
	var list []*thread.Comment
	err = each(rows, scanComment, func(c *thread.Comment) { list = append(list, c) })
	return list, total, err
}

const actionColumns = "id, site_id, article_id, comment_id, reader_id, appeal_id, action, by_role, moderator, rule, note, decision, until, created_at"

func scanAction(row interface{ Scan(...any) error }) (*thread.ModerationAction, error) {
	return scanActionWith(row)
}

// scanActionWith scans an action's columns followed by extra ones.
func scanActionWith(row interface{ Scan(...any) error }, extra ...any) (*thread.ModerationAction, error) {
	var a thread.ModerationAction
	var article, comment, reader, appeal, until sql.NullInt64
	var role string
	var created int64
	err := row.Scan(append([]any{&a.ID, &a.SiteID, &article, &comment, &reader, &appeal, &a.Kind, &role, &a.Moderator, &a.Rule, &a.Note,
		&a.Decision, &until, &created}, extra...)...)
	if err != nil {
		return nil, err
	}
	a.ArticleID, a.CommentID, a.ReaderID, a.AppealID = article.Int64, comment.Int64, reader.Int64, appeal.Int64
	a.BySystem, a.Until, a.At = role == "system", optionalTime(until), time.UnixMilli(created).UTC()
	return &a, nil
}

// ModerationLog returns an article's actions, newest first.
func (db *DB) ModerationLog(ctx context.Context, articleID, before int64, limit int) ([]*thread.ModerationAction, error) {
	rows, err := db.reader().QueryContext(ctx, "SELECT "+actionColumns+` FROM moderation_actions
		WHERE article_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`, articleID, before, before, limit)
	if err != nil {
		return nil, err
	}
	var list []*thread.ModerationAction
	err = each(rows, scanAction, func(a *thread.ModerationAction) { list = append(list, a) })
	return list, err
}

// ModerationTotals counts a site's actions by kind, rule and decision.
func (db *DB) ModerationTotals(ctx context.Context, siteID int64) ([]thread.ActionTotal, error) {
	rows, err := db.reader().QueryContext(ctx, `SELECT action, rule, decision, count(*) FROM moderation_actions
		WHERE site_id = ? GROUP BY action, rule, decision ORDER BY action, count(*) DESC, rule`, siteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []thread.ActionTotal
	for rows.Next() {
		var t thread.ActionTotal
		if err := rows.Scan(&t.Kind, &t.Rule, &t.Decision, &t.Count); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CommentsByAuthor returns a reader's comments on an article in the statuses, newest first.
func (db *DB) CommentsByAuthor(ctx context.Context, readerID, articleID int64, statuses []thread.Status, limit int) ([]*thread.Comment, error) {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	list, err := columns.JSONList(names)
	if err != nil {
		return nil, err
	}
	rows, err := db.reader().QueryContext(ctx, "SELECT "+commentColumns+` FROM comments
		WHERE author_id = ? AND article_id = ? AND status IN (SELECT value FROM json_each(?)) ORDER BY created_at DESC, id DESC LIMIT ?`,
		readerID, articleID, list, limit)
	if err != nil {
		return nil, err
	}
	var out []*thread.Comment
	err = each(rows, scanComment, func(c *thread.Comment) { out = append(out, c) })
	return out, err
}

// ReaderData returns what a reader wrote: comments, likes, reports and appeals.
func (db *DB) ReaderData(ctx context.Context, readerID int64) (*thread.ReaderData, error) {
	d := &thread.ReaderData{}
	rows, err := db.reader().QueryContext(ctx, "SELECT "+commentColumns+" FROM comments WHERE author_id = ? ORDER BY created_at, id", readerID)
	if err != nil {
		return nil, err
	}
	if err := each(rows, scanComment, func(c *thread.Comment) { d.Comments = append(d.Comments, c) }); err != nil {
		return nil, err
	}
	if d.Likes, err = db.ids(ctx, "SELECT comment_id FROM likes WHERE reader_id = ? ORDER BY comment_id", readerID); err != nil {
		return nil, err
	}
	rows, err = db.reader().QueryContext(ctx, "SELECT comment_id, reader_id, rule, created_at FROM reports WHERE reader_id = ? ORDER BY created_at", readerID)
	if err != nil {
		return nil, err
	}
	if err := each(rows, scanReport, func(r *thread.Report) { d.Reports = append(d.Reports, r) }); err != nil {
		return nil, err
	}
	rows, err = db.reader().QueryContext(ctx, appealQuery+" WHERE ap.author_id = ? ORDER BY ap.id", readerID)
	if err != nil {
		return nil, err
	}
	err = each(rows, scanAppeal, func(a *thread.Appeal) { d.Appeals = append(d.Appeals, a) })
	return d, err
}

func scanReport(row interface{ Scan(...any) error }) (*thread.Report, error) {
	var r thread.Report
	var created int64
	if err := row.Scan(&r.CommentID, &r.ReaderID, &r.Rule, &created); err != nil {
		return nil, err
	}
	r.At = time.UnixMilli(created).UTC()
	return &r, nil
}

// ids runs a query of one integer column on the read pool.
func (db *DB) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := db.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DeleteReader deletes a reader's account in one transaction: likes withdrawn, appeals blanked, every comment
// emptied of body and author (placeholders stay where others replied), and the reader left without a name,
// a token or a sign-in subject.
func (db *DB) DeleteReader(ctx context.Context, readerID int64) ([]int64, int, error) {
	var articles []int64
	emptied := 0
	err := db.inTx(ctx, func(tx queryer) error {
		if _, err := tx.ExecContext(ctx, `UPDATE comments SET like_count = like_count - 1
			WHERE id IN (SELECT comment_id FROM likes WHERE reader_id = ?)`, readerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM likes WHERE reader_id = ?", readerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE appeals SET text = '' WHERE author_id = ? AND text <> ''", readerID); err != nil {
			return err
		}
		seen := map[int64]bool{}
		for {
			// One comment at a time: removing one may remove placeholders above it, which may be the reader's too.
			c, err := scanComment(tx.QueryRowContext(ctx, "SELECT "+commentColumns+" FROM comments WHERE author_id = ? ORDER BY depth DESC LIMIT 1", readerID))
			if err == sql.ErrNoRows {
				break
			}
			if err != nil {
				return err
			}
			if !seen[c.ArticleID] {
				seen[c.ArticleID] = true
				articles = append(articles, c.ArticleID)
			}
			emptied++
			if err := emptyComment(ctx, tx, c); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE readers SET display_name = '', token_hash = NULL, sso_subject = NULL WHERE id = ?`, readerID)
		return err
	})
	return articles, emptied, err
}

// emptyComment takes a deleted account's comment out of the thread as thread.AccountDeletionOf says.
func emptyComment(ctx context.Context, tx queryer, c *thread.Comment) error {
	switch thread.AccountDeletionOf(c) {
	case thread.EmptyRemoved:
		_, err := tx.ExecContext(ctx, "UPDATE comments SET body = '', body_html = '', author_id = NULL WHERE id = ?", c.ID)
		return err
	case thread.LeaveDeleted:
		if _, err := tx.ExecContext(ctx, "DELETE FROM likes WHERE comment_id = ?", c.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE comments SET status = 'deleted', body = '', body_html = '', author_id = NULL, like_count = 0
			WHERE id = ?`, c.ID)
		if err != nil {
			return err
		}
		return count(ctx, tx, c, c.Status, thread.StatusDeleted)
	}
	if c.Status == thread.StatusPublished {
		if _, err := tx.ExecContext(ctx, "UPDATE articles SET comment_count = comment_count - 1 WHERE id = ?", c.ArticleID); err != nil {
			return err
		}
	}
	if c.Listed() {
		return removeRow(ctx, tx, c)
	}
	// A pending comment counts nowhere; its replies, if any, are pending too.
	_, err := tx.ExecContext(ctx, "DELETE FROM comments WHERE parent_id = ? OR id = ?", c.ID, c.ID)
	return err
}
