package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

// Moderate applies a moderation action and appends it to the log in one transaction.
func (db *DB) Moderate(ctx context.Context, a *thread.ModerationAction, change *thread.StatusChange) (*thread.Comment, error) {
	var out *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		var err error
		var from thread.Status
		var logged []eventlog.Record
		out = nil
		switch {
		case change != nil:
			if out, from, err = changeStatus(ctx, tx, a, change); err == nil {
				logged = records(thread.Announced(thread.WriteModerate, a.SiteID, from, out), a.SiteID, out.ArticleID)
			}
		case a.Kind == thread.ActionLock || a.Kind == thread.ActionUnlock:
			_, err = tx.Exec(ctx, "UPDATE articles SET locked = $1 WHERE id = $2", a.Kind == thread.ActionLock, a.ArticleID)
			logged = []eventlog.Record{eventlog.Changed(a.SiteID, a.ArticleID)}
		case a.Kind == thread.ActionSuspend:
			_, err = tx.Exec(ctx, "UPDATE readers SET suspended_until = $1, suspension_reason = $2 WHERE id = $3",
				ms(a.Until), a.Note, a.ReaderID)
			logged = []eventlog.Record{eventlog.Changed(a.SiteID, 0)}
		}
		if err != nil {
			return err
		}
		if err := appendAction(ctx, tx, a); err != nil {
			return err
		}
		if id := thread.CredentialsChangedBy(a); id != 0 {
			logged = append(logged, eventlog.ReaderChanged(a.SiteID, id))
		}
		return eventlog.Append(ctx, tx, logged...)
	})
	return out, err
}

// changeStatus moves the action's comment as change says, reading its status under a row lock, so that of two
// moderators acting at once the second sees what the first did (and gets CONFLICT where it must). It returns
// the comment as it now is, and its status before.
func changeStatus(ctx context.Context, tx queryer, a *thread.ModerationAction, change *thread.StatusChange) (*thread.Comment, thread.Status, error) {
	c, err := scanComment(tx.QueryRow(ctx, "SELECT "+commentColumns+" FROM comments WHERE id = $1 FOR UPDATE", a.CommentID))
	if err != nil {
		return nil, "", notFound(err, "comment")
	}
	if err := change.Check(c, a.Kind); err != nil {
		return nil, "", err
	}
	if a.Kind == thread.ActionAnswerAppeal {
		if _, err := tx.Exec(ctx, "UPDATE comments SET appeal_open = false WHERE id = $1", c.ID); err != nil {
			return nil, "", err
		}
		c.AppealOpen = false
	}
	if change.To == "" {
		return c, c.Status, nil
	}
	rule, note := change.Marks(a)
	updated, err := scanComment(tx.QueryRow(ctx, `UPDATE comments SET status = $1, rule = $2, note = $3, moderated_at = $4,
		report_count = CASE WHEN $5 THEN 0 ELSE report_count END WHERE id = $6 RETURNING `+commentColumns,
		string(change.To), rule, note, ms(a.At), change.To == thread.StatusPublished, c.ID))
	if err != nil {
		return nil, "", err
	}
	return updated, c.Status, count(ctx, tx, c, c.Status, change.To)
}

func appendAction(ctx context.Context, tx queryer, a *thread.ModerationAction) error {
	role := "moderator"
	if a.BySystem {
		role = "system"
	}
	return tx.QueryRow(ctx, `INSERT INTO moderation_actions
		(site_id, article_id, comment_id, reader_id, appeal_id, action, by_role, moderator, rule, note, decision, until, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		a.SiteID, idOrNil(a.ArticleID), idOrNil(a.CommentID), idOrNil(a.ReaderID), idOrNil(a.AppealID),
		string(a.Kind), role, a.Moderator, a.Rule, a.Note, string(a.Decision), msOrNil(a.Until), ms(a.At)).Scan(&a.ID)
}

// AddReport records a report and holds the comment when it reaches the threshold.
func (db *DB) AddReport(ctx context.Context, r *thread.Report, threshold int) (*thread.Comment, error) {
	var out *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		out = nil
		_, err := tx.Exec(ctx, "INSERT INTO reports (comment_id, reader_id, rule, created_at) VALUES ($1, $2, $3, $4)",
			r.CommentID, r.ReaderID, r.Rule, ms(r.At))
		if err != nil {
			return conflict(err, "you reported this comment already")
		}
		c, err := scanComment(tx.QueryRow(ctx, "UPDATE comments SET report_count = report_count + 1 WHERE id = $1 RETURNING "+commentColumns, r.CommentID))
		if err != nil {
			return notFound(err, "comment")
		}
		out = c
		siteID, err := siteOf(ctx, tx, c.ArticleID)
		if err != nil {
			return err
		}
		hold, change := thread.HoldAfterReports(c, r.Rule, r.At, threshold)
		if hold == nil {
			return eventlog.Append(ctx, tx, eventlog.Changed(siteID, c.ArticleID))
		}
		hold.SiteID = siteID
		var from thread.Status
		if out, from, err = changeStatus(ctx, tx, hold, change); err != nil {
			return err
		}
		if err := appendAction(ctx, tx, hold); err != nil {
			return err
		}
		return eventlog.Append(ctx, tx, records(thread.Announced(thread.WriteModerate, siteID, from, out), siteID, out.ArticleID)...)
	})
	return out, err
}

// AddAppeal records an author's one appeal of a comment.
func (db *DB) AddAppeal(ctx context.Context, a *thread.Appeal) error {
	return db.inTx(ctx, func(tx queryer) error {
		err := tx.QueryRow(ctx, "INSERT INTO appeals (comment_id, author_id, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
			a.CommentID, a.AuthorID, a.Text, ms(a.At)).Scan(&a.ID)
		if err != nil {
			return conflict(err, "this comment was appealed already: an author appeals once")
		}
		var siteID, articleID int64
		err = tx.QueryRow(ctx, `UPDATE comments AS c SET appeal_open = true FROM articles AS a
			WHERE c.id = $1 AND a.id = c.article_id RETURNING a.site_id, a.id`, a.CommentID).Scan(&siteID, &articleID)
		if err != nil {
			return notFound(err, "comment")
		}
		return eventlog.Append(ctx, tx, eventlog.Changed(siteID, articleID))
	})
}

const appealQuery = `SELECT ap.id, ap.comment_id, ap.author_id, ap.text, ap.created_at, ma.decision, ma.note, ma.created_at
	FROM appeals AS ap LEFT JOIN moderation_actions AS ma ON ma.appeal_id = ap.id AND ma.action = 'answer_appeal'`

func scanAppeal(row scanner) (*thread.Appeal, error) {
	var a thread.Appeal
	var created int64
	var decision, answer *string
	var answered *int64
	if err := row.Scan(&a.ID, &a.CommentID, &a.AuthorID, &a.Text, &created, &decision, &answer, &answered); err != nil {
		return nil, err
	}
	a.At, a.AnsweredAt = fromMs(created), optionalTime(answered)
	if decision != nil {
		a.Decision = thread.Decision(*decision)
	}
	if answer != nil {
		a.Answer = *answer
	}
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
	rows, err := db.reader().Query(ctx, `SELECT comment_id, rule, count(*) FROM reports WHERE comment_id = ANY($1)
		GROUP BY comment_id, rule ORDER BY comment_id, count(*) DESC, rule COLLATE "C"`, ids)
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
const queued = "(c.status = 'pending' OR c.report_count > 0 OR c.appeal_open)"

// ModerationQueue returns pending and reported comments of a site, oldest first, and their total: two
// statements, whatever the page.
func (db *DB) ModerationQueue(ctx context.Context, siteID, articleID int64, req thread.PageRequest) ([]*thread.Comment, int, error) {
	where, args := "a.site_id = $1", []any{siteID}
	if articleID != 0 {
		where, args = "a.site_id = $1 AND c.article_id = $2", append(args, articleID)
	}
	where = queued + " AND " + where
	var total int
	err := db.reader().QueryRow(ctx, `SELECT count(*) FROM comments AS c JOIN articles AS a ON a.id = c.article_id WHERE `+where, args...).Scan(&total)
	if err != nil {
		return nil, 0, err
	}
	if req.After != nil {
		where += fmt.Sprintf(" AND (c.created_at, c.id) > ($%d, $%d)", len(args)+1, len(args)+2)
		args = append(args, req.After.CreatedAt, req.After.ID)
	}
	args = append(args, req.First+1)
	rows, err := db.reader().Query(ctx, fmt.Sprintf(`SELECT %s FROM comments AS c JOIN articles AS a ON a.id = c.article_id
		WHERE %s ORDER BY c.created_at, c.id LIMIT $%d`, qualified("c", commentColumns), where, len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	var list []*thread.Comment
	err = each(rows, scanComment, func(c *thread.Comment) { list = append(list, c) })
	return list, total, err
}

const actionColumns = "id, site_id, article_id, comment_id, reader_id, appeal_id, action, by_role, moderator, rule, note, decision, until, created_at"

func scanAction(row scanner) (*thread.ModerationAction, error) {
	return scanActionWith(row)
}

// scanActionWith scans an action's columns followed by extra ones.
func scanActionWith(row scanner, extra ...any) (*thread.ModerationAction, error) {
	var a thread.ModerationAction
	var article, comment, reader, appeal, until *int64
	var kind, role, decision string
	var created int64
	err := row.Scan(append([]any{&a.ID, &a.SiteID, &article, &comment, &reader, &appeal, &kind, &role, &a.Moderator, &a.Rule, &a.Note,
		&decision, &until, &created}, extra...)...)
	if err != nil {
		return nil, err
	}
	a.Kind, a.Decision = thread.ActionKind(kind), thread.Decision(decision)
	a.ArticleID, a.CommentID, a.ReaderID, a.AppealID = orZero(article), orZero(comment), orZero(reader), orZero(appeal)
	a.BySystem, a.Until, a.At = role == "system", optionalTime(until), fromMs(created)
	return &a, nil
}

// ModerationLog returns an article's actions, newest first.
func (db *DB) ModerationLog(ctx context.Context, articleID, before int64, limit int) ([]*thread.ModerationAction, error) {
	query, args := "SELECT "+actionColumns+" FROM moderation_actions WHERE article_id = $1 ORDER BY id DESC LIMIT $2", []any{articleID, limit}
	if before != 0 {
		query = "SELECT " + actionColumns + " FROM moderation_actions WHERE article_id = $1 AND id < $3 ORDER BY id DESC LIMIT $2"
		args = append(args, before)
	}
	rows, err := db.reader().Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var list []*thread.ModerationAction
	err = each(rows, scanAction, func(a *thread.ModerationAction) { list = append(list, a) })
	return list, err
}

// ModerationTotals counts a site's actions by kind, rule and decision.
func (db *DB) ModerationTotals(ctx context.Context, siteID int64) ([]thread.ActionTotal, error) {
	rows, err := db.reader().Query(ctx, `SELECT action, rule, decision, count(*) FROM moderation_actions
		WHERE site_id = $1 GROUP BY action, rule, decision ORDER BY action COLLATE "C", count(*) DESC, rule COLLATE "C"`, siteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []thread.ActionTotal
	for rows.Next() {
		var t thread.ActionTotal
		var kind, decision string
		if err := rows.Scan(&kind, &t.Rule, &decision, &t.Count); err != nil {
			return nil, err
		}
		t.Kind, t.Decision = thread.ActionKind(kind), thread.Decision(decision)
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
	rows, err := db.reader().Query(ctx, "SELECT "+commentColumns+` FROM comments
		WHERE author_id = $1 AND article_id = $2 AND status = ANY($3) ORDER BY created_at DESC, id DESC LIMIT $4`,
		readerID, articleID, names, limit)
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
	rows, err := db.reader().Query(ctx, "SELECT "+commentColumns+" FROM comments WHERE author_id = $1 ORDER BY created_at, id", readerID)
	if err != nil {
		return nil, err
	}
	if err := each(rows, scanComment, func(c *thread.Comment) { d.Comments = append(d.Comments, c) }); err != nil {
		return nil, err
	}
	rows, err = db.reader().Query(ctx, "SELECT comment_id FROM likes WHERE reader_id = $1 ORDER BY comment_id", readerID)
	if err != nil {
		return nil, err
	}
	if d.Likes, err = int64s(rows); err != nil {
		return nil, err
	}
	rows, err = db.reader().Query(ctx, "SELECT comment_id, reader_id, rule, created_at FROM reports WHERE reader_id = $1 ORDER BY created_at, comment_id", readerID)
	if err != nil {
		return nil, err
	}
	if err := each(rows, scanReport, func(r *thread.Report) { d.Reports = append(d.Reports, r) }); err != nil {
		return nil, err
	}
	rows, err = db.reader().Query(ctx, appealQuery+" WHERE ap.author_id = $1 ORDER BY ap.id", readerID)
	if err != nil {
		return nil, err
	}
	err = each(rows, scanAppeal, func(a *thread.Appeal) { d.Appeals = append(d.Appeals, a) })
	return d, err
}

func scanReport(row scanner) (*thread.Report, error) {
	var r thread.Report
	var created int64
	if err := row.Scan(&r.CommentID, &r.ReaderID, &r.Rule, &created); err != nil {
		return nil, err
	}
	r.At = fromMs(created)
	return &r, nil
}

// DeleteReader deletes a reader's account in one transaction: likes withdrawn, appeals blanked, every comment
// emptied of body and author (placeholders stay where others replied), and the reader left without a name,
// a token or a sign-in subject.
func (db *DB) DeleteReader(ctx context.Context, readerID int64) ([]int64, int, error) {
	var articles []int64
	emptied := 0
	err := db.inTx(ctx, func(tx queryer) error {
		articles, emptied = nil, 0
		// The articles whose threads change, for the event log: those of the comments it liked, too.
		rows, err := tx.Query(ctx, `UPDATE comments SET like_count = like_count - 1
			WHERE id IN (SELECT comment_id FROM likes WHERE reader_id = $1) RETURNING article_id`, readerID)
		if err != nil {
			return err
		}
		changed, err := int64s(rows)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM likes WHERE reader_id = $1", readerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE appeals SET text = '' WHERE author_id = $1 AND text <> ''", readerID); err != nil {
			return err
		}
		seen := map[int64]bool{}
		for {
			// One comment at a time: removing one may remove placeholders above it, which may be the reader's too.
			c, err := scanComment(tx.QueryRow(ctx, "SELECT "+commentColumns+" FROM comments WHERE author_id = $1 ORDER BY depth DESC, id LIMIT 1 FOR UPDATE", readerID))
			if errors.Is(err, pgx.ErrNoRows) {
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
		var siteID int64
		err = tx.QueryRow(ctx, `UPDATE readers SET display_name = '', token_hash = NULL, sso_subject = NULL WHERE id = $1
			RETURNING site_id`, readerID).Scan(&siteID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // no such reader: nothing changed
		}
		if err != nil {
			return err
		}
		var logged []eventlog.Record
		seen = map[int64]bool{}
		for _, id := range append(changed, articles...) {
			if !seen[id] {
				seen[id] = true
				logged = append(logged, eventlog.Changed(siteID, id))
			}
		}
		// The account's token and sign-in are gone: every server ends its live connections.
		logged = append(logged, eventlog.ReaderChanged(siteID, readerID))
		return eventlog.Append(ctx, tx, logged...)
	})
	return articles, emptied, err
}

// emptyComment takes a deleted account's comment out of the thread as thread.AccountDeletionOf says.
func emptyComment(ctx context.Context, tx queryer, c *thread.Comment) error {
	switch thread.AccountDeletionOf(c) {
	case thread.EmptyRemoved:
		_, err := tx.Exec(ctx, "UPDATE comments SET body = '', body_html = '', author_id = NULL WHERE id = $1", c.ID)
		return err
	case thread.LeaveDeleted:
		if _, err := tx.Exec(ctx, "DELETE FROM likes WHERE comment_id = $1", c.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE comments SET status = 'deleted', body = '', body_html = '', author_id = NULL, like_count = 0
			WHERE id = $1`, c.ID)
		if err != nil {
			return err
		}
		return count(ctx, tx, c, c.Status, thread.StatusDeleted)
	}
	if c.Status == thread.StatusPublished {
		if _, err := tx.Exec(ctx, "UPDATE articles SET comment_count = comment_count - 1 WHERE id = $1", c.ArticleID); err != nil {
			return err
		}
	}
	if c.Listed() {
		return removeRow(ctx, tx, c)
	}
	// A pending comment counts nowhere; its replies, if any, are pending too.
	_, err := tx.Exec(ctx, "DELETE FROM comments WHERE parent_id = $1 OR id = $1", c.ID)
	return err
}
