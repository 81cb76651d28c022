package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

const commentColumns = "id, article_id, parent_id, author_id, body, body_html, status, depth, like_count, reply_count, created_at, edited_at, rule, note, moderated_at, report_count, appeal_open"

// listed is the condition of the comments in lists: those in thread.ListedStatuses. They are written into the
// statement, not passed, so that the planner sees them.
var listed = "status IN (" + quotedStatuses(thread.ListedStatuses) + ")"

// quotedStatuses lists statuses as SQL string literals (they are the domain's constants, never input).
func quotedStatuses(statuses []thread.Status) string {
	q := make([]string, len(statuses))
	for i, s := range statuses {
		q[i] = "'" + strings.ReplaceAll(string(s), "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

func scanComment(row scanner) (*thread.Comment, error) {
	return scanCommentWith(row)
}

// scanCommentWith scans a comment's columns followed by extra ones.
func scanCommentWith(row scanner, extra ...any) (*thread.Comment, error) {
	var c thread.Comment
	var parent, author, edited, moderated *int64
	var created int64
	var status string
	err := row.Scan(append([]any{&c.ID, &c.ArticleID, &parent, &author, &c.Body, &c.BodyHTML, &status, &c.Depth,
		&c.LikeCount, &c.ReplyCount, &created, &edited, &c.Rule, &c.Note, &moderated, &c.ReportCount, &c.AppealOpen}, extra...)...)
	if err != nil {
		return nil, err
	}
	c.Status = thread.Status(status)
	c.ParentID, c.AuthorID = orZero(parent), orZero(author)
	c.CreatedAt = fromMs(created)
	c.EditedAt, c.ModeratedAt = optionalTime(edited), optionalTime(moderated)
	return &c, nil
}

// CommentsByID returns the comments with the IDs, whatever their status.
func (db *DB) CommentsByID(ctx context.Context, ids []int64) (map[int64]*thread.Comment, error) {
	return byID(ctx, db, "SELECT "+commentColumns+" FROM comments WHERE id", ids, scanComment, func(c *thread.Comment) int64 { return c.ID })
}

// keyset returns the condition and ORDER BY for a page in order o after key k (none when k is nil), with its
// parameters numbered from n. Each matches one of the indexes of the first migration, so a page is one index
// range scan.
func keyset(o thread.Order, k *thread.Key, n int) (cond string, args []any, orderBy string) {
	switch o {
	case thread.OrderTop:
		orderBy = "like_count DESC, created_at, id"
		if k != nil {
			cond = fmt.Sprintf("AND like_count <= $%d AND (like_count < $%d OR (created_at, id) > ($%d, $%d))", n, n, n+1, n+2)
			args = []any{k.LikeCount, k.CreatedAt, k.ID}
		}
	case thread.OrderNewest:
		orderBy = "created_at DESC, id DESC"
		if k != nil {
			cond, args = fmt.Sprintf("AND (created_at, id) < ($%d, $%d)", n, n+1), []any{k.CreatedAt, k.ID}
		}
	default:
		orderBy = "created_at, id"
		if k != nil {
			cond, args = fmt.Sprintf("AND (created_at, id) > ($%d, $%d)", n, n+1), []any{k.CreatedAt, k.ID}
		}
	}
	return cond, args, orderBy
}

// TopLevelComments returns up to req.First+1 visible top-level comments of an article in req.Order.
func (db *DB) TopLevelComments(ctx context.Context, articleID int64, req thread.PageRequest) ([]*thread.Comment, error) {
	cond, args, orderBy := keyset(req.Order, req.After, 3)
	query := fmt.Sprintf("SELECT %s FROM comments WHERE article_id = $1 AND parent_id IS NULL AND %s %s ORDER BY %s LIMIT $2",
		commentColumns, listed, cond, orderBy)
	rows, err := db.reader().Query(ctx, query, append([]any{articleID, req.First + 1}, args...)...)
	if err != nil {
		return nil, err
	}
	var list []*thread.Comment
	err = each(rows, scanComment, func(c *thread.Comment) { list = append(list, c) })
	return list, err
}

// Replies returns up to req.First+1 visible direct replies of each parent, oldest first. It is one statement for
// all parents: for each parent, a lateral subquery reads a LIMITed range of the replies index, so a parent
// with thousands of replies costs no more than one with three.
func (db *DB) Replies(ctx context.Context, parentIDs []int64, req thread.PageRequest) (map[int64][]*thread.Comment, error) {
	out := make(map[int64][]*thread.Comment, len(parentIDs))
	if len(parentIDs) == 0 {
		return out, nil
	}
	cond, keyArgs, orderBy := keyset(thread.OrderOldest, req.After, 3)
	query := fmt.Sprintf(`SELECT %s FROM unnest($1::bigint[]) WITH ORDINALITY AS p (id, n) CROSS JOIN LATERAL (
			SELECT %s FROM comments WHERE parent_id = p.id AND %s %s ORDER BY %s LIMIT $2) AS c
		ORDER BY p.n, c.created_at, c.id`, qualified("c", commentColumns), commentColumns, listed, cond, orderBy)
	rows, err := db.reader().Query(ctx, query, append([]any{parentIDs, req.First + 1}, keyArgs...)...)
	if err != nil {
		return nil, err
	}
	err = each(rows, scanComment, func(c *thread.Comment) { out[c.ParentID] = append(out[c.ParentID], c) })
	return out, err
}

// qualified prefixes each column of a column list with a table alias.
func qualified(alias, columns string) string {
	return alias + "." + strings.ReplaceAll(columns, ", ", ", "+alias+".")
}

// AddComment inserts c, setting its ID and depth, and counts it on its parent and article. It is one statement,
// committed on its own: the rows it updates are locked only for the statement and its commit, not for round
// trips between statements; and the article's counts it moves are one of the article's shards, so that posts
// to one article commit together rather than one after another.
func (db *DB) AddComment(ctx context.Context, c *thread.Comment) error {
	logged := kinds(thread.WriteAdd, "", c.Status)
	return db.retried(ctx, func(q queryer) error { return insertComment(ctx, q, c, newCounts(c), logged) })
}

// counts is how a new comment moves the counts of its article and parent.
type counts struct{ published, topLevel, replies int }

// newCounts returns how c, new, moves the counts: the parent's replies and the article's top-level comments
// count the listed, the article's comments count the published.
func newCounts(c *thread.Comment) counts {
	listed := boolInt(c.Listed())
	if c.ParentID != 0 {
		return counts{published: boolInt(c.Status == thread.StatusPublished), replies: listed}
	}
	return counts{published: boolInt(c.Status == thread.StatusPublished), topLevel: listed}
}

// articleCountShards is how many rows of counts an article has beside its own (migration 0005): posts to one
// article add to one of them at random, so that up to this many commit at once instead of queuing on one row.
const articleCountShards = "16"

// insertComment inserts c and moves the counts of its article (one of its shards) and parent by n, in one
// statement, which also records events of the kinds logged about it in the event log (none for imports, which
// record a change).
func insertComment(ctx context.Context, q queryer, c *thread.Comment, n counts, logged []string) error {
	publishedDelta, topDelta, replyDelta := n.published, n.topLevel, n.replies
	// Imports bring likes and moderators' decisions along; a new comment has none.
	err := q.QueryRow(ctx, `WITH parent AS (
			SELECT article_id, depth FROM comments WHERE id = $2
		), inserted AS (
			INSERT INTO comments (article_id, parent_id, author_id, body, body_html, status, depth, created_at,
				like_count, rule, note, edited_at, moderated_at)
			SELECT $1, $2, $3, $4, $5, $6, coalesce((SELECT depth + 1 FROM parent), 0), $7, $8, $9, $10, $11, $12
			WHERE $2::bigint IS NULL OR (SELECT article_id FROM parent) = $1
			RETURNING id, depth
		), article AS (
			INSERT INTO article_count_shards AS s (article_id, shard, comment_count, top_level_count)
			SELECT $1, floor(random() * `+articleCountShards+`)::smallint, $13, $14
			WHERE ($13 <> 0 OR $14 <> 0) AND EXISTS (SELECT FROM inserted)
			ON CONFLICT (article_id, shard) DO UPDATE
			SET comment_count = s.comment_count + excluded.comment_count, top_level_count = s.top_level_count + excluded.top_level_count
		), replies AS (
			UPDATE comments SET reply_count = reply_count + $15
			WHERE id = $2 AND $15 <> 0 AND EXISTS (SELECT FROM inserted)
		), logged AS (
			INSERT INTO events (kind, site_id, article_id, comment_id, parent_id)
			SELECT k, (SELECT site_id FROM articles WHERE id = $1), $1, inserted.id, coalesce($2, 0)
			FROM inserted, unnest($16::text[]) AS k
		)
		SELECT id, depth FROM inserted`,
		c.ArticleID, idOrNil(c.ParentID), idOrNil(c.AuthorID), c.Body, c.BodyHTML, string(c.Status), ms(c.CreatedAt),
		c.LikeCount, c.Rule, c.Note, msOrNil(c.EditedAt), msOrNil(c.ModeratedAt), publishedDelta, topDelta, replyDelta, logged).Scan(&c.ID, &c.Depth)
	if errors.Is(err, pgx.ErrNoRows) {
		// Nothing inserted: the parent is missing or on another article. Which, the caller is told.
		var article int64
		if err := q.QueryRow(ctx, "SELECT article_id FROM comments WHERE id = $1", c.ParentID).Scan(&article); err != nil {
			return notFound(err, "parent comment")
		}
		return thread.Errorf(thread.CodeInvalid, "the parent comment belongs to another article")
	}
	// The parent went (deleted) between the statement's snapshot and its insert.
	return violates(err, "23503", "comments_parent_id_fkey", thread.CodeNotFound, "no parent comment found")
}

// count moves the counts of c's article and parent as c goes from status from ("" for a new comment) to to:
// the parent's replies and the article's top-level comments count the listed, the article's comments count
// the published.
func count(ctx context.Context, tx queryer, c *thread.Comment, from, to thread.Status) error {
	was, is := &thread.Comment{Status: from}, &thread.Comment{Status: to}
	listedDelta, publishedDelta := boolInt(is.Listed())-boolInt(was.Listed()), boolInt(to == thread.StatusPublished)-boolInt(from == thread.StatusPublished)
	topLevel := 0
	if c.ParentID == 0 {
		topLevel = listedDelta
	}
	// The article's row first, then the parent's: every writer takes them in this order (a deletion too), so
	// that two writers on one thread wait for each other rather than deadlock.
	if topLevel != 0 || publishedDelta != 0 {
		if _, err := tx.Exec(ctx, "UPDATE articles SET comment_count = comment_count + $1, top_level_count = top_level_count + $2 WHERE id = $3",
			publishedDelta, topLevel, c.ArticleID); err != nil {
			return err
		}
	}
	if c.ParentID == 0 || listedDelta == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, "UPDATE comments SET reply_count = reply_count + $1 WHERE id = $2", listedDelta, c.ParentID)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// EditComment replaces a comment's body and returns the comment as it now is.
func (db *DB) EditComment(ctx context.Context, id int64, body, bodyHTML string, at time.Time) (*thread.Comment, error) {
	var c *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		var err error
		var siteID int64
		c, err = scanCommentWith(tx.QueryRow(ctx, `UPDATE comments AS c SET body = $1, body_html = $2, edited_at = $3
			FROM articles AS a WHERE c.id = $4 AND a.id = c.article_id RETURNING `+qualified("c", commentColumns)+", a.site_id",
			body, bodyHTML, ms(at), id), &siteID)
		if err != nil {
			return notFound(err, "comment")
		}
		return eventlog.Append(ctx, tx, records(thread.Announced(thread.WriteEdit, siteID, c.Status, c), siteID, c.ArticleID)...)
	})
	return c, err
}

// DeleteComment deletes a published comment. With visible replies it stays as a placeholder with no body,
// author or likes, and is returned; without, its row goes, and so does each placeholder above it that is left
// with no visible reply.
func (db *DB) DeleteComment(ctx context.Context, id int64) (*thread.Comment, error) {
	var placeholder *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		placeholder = nil
		// Locked until the transaction ends: a moderator's change or a second delete waits, then sees this one.
		c, err := scanComment(tx.QueryRow(ctx, "SELECT "+commentColumns+" FROM comments WHERE id = $1 FOR UPDATE", id))
		if err != nil {
			return notFound(err, "comment")
		}
		if err := thread.CheckDelete(c); err != nil {
			return err
		}
		siteID, err := siteOf(ctx, tx, c.ArticleID)
		if err != nil {
			return err
		}
		logDeletion := func() error {
			gone := thread.DeletedComment(c, placeholder)
			return eventlog.Append(ctx, tx, records(thread.Announced(thread.WriteDelete, siteID, c.Status, gone), siteID, c.ArticleID)...)
		}
		if _, err := tx.Exec(ctx, "UPDATE articles SET comment_count = comment_count - 1 WHERE id = $1", c.ArticleID); err != nil {
			return err
		}
		if c.ReplyCount > 0 {
			if _, err := tx.Exec(ctx, "DELETE FROM likes WHERE comment_id = $1", id); err != nil {
				return err
			}
			placeholder, err = scanComment(tx.QueryRow(ctx, `UPDATE comments
				SET status = 'deleted', body = '', body_html = '', author_id = NULL, like_count = 0
				WHERE id = $1 RETURNING `+commentColumns, id))
			if err != nil {
				return err
			}
			return logDeletion()
		}
		if err := removeRow(ctx, tx, c); err != nil {
			return err
		}
		return logDeletion()
	})
	return placeholder, err
}

// removeRow deletes c, which has no visible reply, and then its parent if that is a placeholder left with none.
func removeRow(ctx context.Context, tx queryer, c *thread.Comment) error {
	for {
		// Replies that readers do not see (pending, removed) go with it: nothing could show them in place.
		if _, err := tx.Exec(ctx, "DELETE FROM comments WHERE parent_id = $1", c.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM comments WHERE id = $1", c.ID); err != nil {
			return err
		}
		if c.ParentID == 0 {
			_, err := tx.Exec(ctx, "UPDATE articles SET top_level_count = top_level_count - 1 WHERE id = $1", c.ArticleID)
			return err
		}
		parent, err := scanComment(tx.QueryRow(ctx, `UPDATE comments SET reply_count = reply_count - 1
			WHERE id = $1 RETURNING `+commentColumns, c.ParentID))
		if err != nil {
			return err
		}
		if parent.Status != thread.StatusDeleted || parent.ReplyCount > 0 {
			return nil
		}
		c = parent
	}
}
