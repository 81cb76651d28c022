package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/threadline/threadline/thread"
)

const commentColumns = "id, article_id, parent_id, author_id, body, body_html, status, depth, like_count, reply_count, created_at, edited_at, rule, note, moderated_at, report_count, appeal_open"

// listed is the condition of the comments in lists: those in thread.ListedStatuses.
var listed = "status IN (" + quotedStatuses(thread.ListedStatuses) + ")"

// quotedStatuses lists statuses as SQL string literals (they are the domain's constants, never input).
func quotedStatuses(statuses []thread.Status) string {
	q := make([]string, len(statuses))
	for i, s := range statuses {
		q[i] = "'" + strings.ReplaceAll(string(s), "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

func scanComment(row interface{ Scan(...any) error }) (*thread.Comment, error) {
	return scanCommentWith(row)
}

// scanCommentWith scans a comment's columns followed by extra ones.
func scanCommentWith(row interface{ Scan(...any) error }, extra ...any) (*thread.Comment, error) {
	var c thread.Comment
	var parent, author, edited, moderated sql.NullInt64
	var created int64
	err := row.Scan(append([]any{&c.ID, &c.ArticleID, &parent, &author, &c.Body, &c.BodyHTML, &c.Status, &c.Depth,
		&c.LikeCount, &c.ReplyCount, &created, &edited, &c.Rule, &c.Note, &moderated, &c.ReportCount, &c.AppealOpen}, extra...)...)
	if err != nil {
		return nil, err
	}
	c.ParentID, c.AuthorID = parent.Int64, author.Int64
	c.CreatedAt = time.UnixMilli(created).UTC()
	c.EditedAt, c.ModeratedAt = optionalTime(edited), optionalTime(moderated)
	return &c, nil
}

// optionalTime returns the time of a nullable Unix-millisecond column: zero for NULL.
func optionalTime(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}

// CommentsByID returns the comments with the IDs, whatever their status.
func (db *DB) CommentsByID(ctx context.Context, ids []int64) (map[int64]*thread.Comment, error) {
	return byID(ctx, db, "SELECT "+commentColumns+" FROM comments WHERE id", ids, scanComment, func(c *thread.Comment) int64 { return c.ID })
}

// keyset returns the condition and ORDER BY for a page in order o after key k (none when k is nil). Each
// matches one of the indexes in the first migration, so a page is one index range scan.
func keyset(o thread.Order, k *thread.Key) (cond string, args []any, orderBy string) {
	switch o {
	case thread.OrderTop:
		orderBy = "like_count DESC, created_at, id"
		if k != nil {
			cond = "AND like_count <= ? AND (like_count < ? OR (created_at, id) > (?, ?))"
			args = []any{k.LikeCount, k.LikeCount, k.CreatedAt, k.ID}
		}
	case thread.OrderNewest:
		orderBy = "created_at DESC, id DESC"
		if k != nil {
			cond, args = "AND (created_at, id) < (?, ?)", []any{k.CreatedAt, k.ID}
		}
	default:
		orderBy = "created_at, id"
		if k != nil {
			cond, args = "AND (created_at, id) > (?, ?)", []any{k.CreatedAt, k.ID}
		}
	}
	return cond, args, orderBy
}

// TopLevelComments returns up to req.First+1 visible top-level comments of an article in req.Order.
func (db *DB) TopLevelComments(ctx context.Context, articleID int64, req thread.PageRequest) ([]*thread.Comment, error) {
	cond, args, orderBy := keyset(req.Order, req.After)
	query := fmt.Sprintf("SELECT %s FROM comments WHERE article_id = ? AND parent_id IS NULL AND %s %s ORDER BY %s LIMIT ?",
		commentColumns, listed, cond, orderBy)
	args = append(append([]any{articleID}, args...), req.First+1)
	rows, err := db.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var list []*thread.Comment
	err = each(rows, scanComment, func(c *thread.Comment) { list = append(list, c) })
	return list, err
}

// Replies returns up to req.First+1 visible direct replies of each parent, oldest first. It is one statement for
// all parents: for each parent, a correlated subquery reads a LIMITed range of the replies index, so a parent
// with thousands of replies costs no more than one with three.
func (db *DB) Replies(ctx context.Context, parentIDs []int64, req thread.PageRequest) (map[int64][]*thread.Comment, error) {
	out := make(map[int64][]*thread.Comment, len(parentIDs))
	if len(parentIDs) == 0 {
		return out, nil
	}
	cond, keyArgs, orderBy := keyset(thread.OrderOldest, req.After)
	query := fmt.Sprintf(`SELECT %s FROM json_each(?) AS p JOIN comments AS c ON c.id IN (
			SELECT id FROM comments WHERE parent_id = p.value AND %s %s ORDER BY %s LIMIT ?)
		ORDER BY p.key, c.created_at, c.id`, qualified("c", commentColumns), listed, cond, orderBy)
	args := append(append([]any{idList(parentIDs)}, keyArgs...), req.First+1)
	rows, err := db.reader().QueryContext(ctx, query, args...)
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

// AddComment inserts c, setting its ID and depth, and counts it on its parent and article.
func (db *DB) AddComment(ctx context.Context, c *thread.Comment) error {
	return db.inTx(ctx, func(tx queryer) error {
		return insertComment(ctx, tx, c)
	})
}

func insertComment(ctx context.Context, tx queryer, c *thread.Comment) error {
	var parent any
	if c.ParentID != 0 {
		var article int64
		err := tx.QueryRowContext(ctx, "SELECT article_id, depth + 1 FROM comments WHERE id = ?", c.ParentID).Scan(&article, &c.Depth)
		if err != nil {
			return notFound(err, "parent comment")
		}
		if article != c.ArticleID {
			return thread.Errorf(thread.CodeInvalid, "the parent comment belongs to another article")
		}
		parent = c.ParentID
	}
	var author any
	if c.AuthorID != 0 {
		author = c.AuthorID
	}
	// Imports bring likes and moderators' decisions along; a new comment has none.
	res, err := tx.ExecContext(ctx, `INSERT INTO comments (article_id, parent_id, author_id, body, body_html, status, depth, created_at,
		like_count, rule, note, edited_at, moderated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ArticleID, parent, author, c.Body, c.BodyHTML, c.Status, c.Depth, c.CreatedAt.UnixMilli(),
		c.LikeCount, c.Rule, c.Note, msOrNil(c.EditedAt), msOrNil(c.ModeratedAt))
	if err != nil {
		return err
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	return count(ctx, tx, c, "", c.Status)
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
	} else if listedDelta != 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE comments SET reply_count = reply_count + ? WHERE id = ?", listedDelta, c.ParentID); err != nil {
			return err
		}
	}
	if topLevel == 0 && publishedDelta == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "UPDATE articles SET comment_count = comment_count + ?, top_level_count = top_level_count + ? WHERE id = ?",
		publishedDelta, topLevel, c.ArticleID)
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
		c, err = scanComment(tx.QueryRowContext(ctx, `UPDATE comments SET body = ?, body_html = ?, edited_at = ?
			WHERE id = ? RETURNING `+commentColumns, body, bodyHTML, at.UnixMilli(), id))
		return notFound(err, "comment")
	})
	return c, err
}

// DeleteComment deletes a published comment. With visible replies it stays as a placeholder with no body,
// author or likes, and is returned; without, its row goes, and so does each placeholder above it that is left
// with no visible reply.
func (db *DB) DeleteComment(ctx context.Context, id int64) (*thread.Comment, error) {
	var placeholder *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		c, err := scanComment(tx.QueryRowContext(ctx, "SELECT "+commentColumns+" FROM comments WHERE id = ?", id))
		if err != nil {
			return notFound(err, "comment")
		}
		if err := thread.CheckDelete(c); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE articles SET comment_count = comment_count - 1 WHERE id = ?", c.ArticleID); err != nil {
			return err
		}
		if c.ReplyCount > 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM likes WHERE comment_id = ?", id); err != nil {
				return err
			}
			placeholder, err = scanComment(tx.QueryRowContext(ctx, `UPDATE comments
				SET status = 'deleted', body = '', body_html = '', author_id = NULL, like_count = 0
				WHERE id = ? RETURNING `+commentColumns, id))
			return err
		}
		return removeRow(ctx, tx, c)
	})
	return placeholder, err
}

// removeRow deletes c, which has no visible reply, and then its parent if that is a placeholder left with none.
func removeRow(ctx context.Context, tx queryer, c *thread.Comment) error {
	for {
		// Replies that readers do not see (pending, removed) go with it: nothing could show them in place.
		if _, err := tx.ExecContext(ctx, "DELETE FROM comments WHERE parent_id = ?", c.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM comments WHERE id = ?", c.ID); err != nil {
			return err
		}
		if c.ParentID == 0 {
			_, err := tx.ExecContext(ctx, "UPDATE articles SET top_level_count = top_level_count - 1 WHERE id = ?", c.ArticleID)
			return err
		}
		parent, err := scanComment(tx.QueryRowContext(ctx, `UPDATE comments SET reply_count = reply_count - 1
			WHERE id = ? RETURNING `+commentColumns, c.ParentID))
		if err != nil {
			return err
		}
		if parent.Status != thread.StatusDeleted || parent.ReplyCount > 0 {
			return nil
		}
		c = parent
	}
}
