package postgres

import (
	"context"

	"github.com/threadline/threadline/thread"
)

// Liked reports which of the comments the reader likes.
func (db *DB) Liked(ctx context.Context, readerID int64, commentIDs []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(commentIDs))
	if len(commentIDs) == 0 {
		return out, nil
	}
	rows, err := db.reader().Query(ctx, "SELECT comment_id FROM likes WHERE reader_id = $1 AND comment_id = ANY($2)", readerID, commentIDs)
	if err != nil {
		return nil, err
	}
	ids, err := int64s(rows)
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// Like records the reader's like of the comment, once however often it is asked, and returns the comment.
func (db *DB) Like(ctx context.Context, commentID, readerID int64) (*thread.Comment, error) {
	return db.changeLike(ctx, `WITH changed AS (
			INSERT INTO likes (comment_id, reader_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1)
		, updated AS (UPDATE comments SET like_count = like_count + (SELECT count(*) FROM changed) WHERE id = $1 RETURNING `+commentColumns+`)`+
		logLike, commentID, readerID)
}

// Unlike withdraws the reader's like of the comment, if any, and returns the comment.
func (db *DB) Unlike(ctx context.Context, commentID, readerID int64) (*thread.Comment, error) {
	return db.changeLike(ctx, `WITH changed AS (
			DELETE FROM likes WHERE comment_id = $1 AND reader_id = $2 RETURNING 1)
		, updated AS (UPDATE comments SET like_count = like_count - (SELECT count(*) FROM changed) WHERE id = $1 RETURNING `+commentColumns+`)`+
		logLike, commentID, readerID)
}

// logLike completes the statement of a like or an unlike: it records the events the change announces
// ($3, their kinds) in the event log, and returns the comment.
const logLike = `, logged AS (
		INSERT INTO events (kind, site_id, article_id, comment_id, parent_id)
		SELECT k, a.site_id, u.article_id, u.id, coalesce(u.parent_id, 0)
		FROM updated AS u JOIN articles AS a ON a.id = u.article_id, unnest($3::text[]) AS k)
	SELECT ` + commentColumns + ` FROM updated`

// changeLike runs stmt, which changes the reader's like and moves the comment's count by what it changed, in
// one statement committed on its own. Two likes by one reader at once meet on the primary key: the second
// waits for the first, then inserts nothing.
func (db *DB) changeLike(ctx context.Context, stmt string, commentID, readerID int64) (*thread.Comment, error) {
	var c *thread.Comment
	err := db.retried(ctx, func(q queryer) error {
		var err error
		c, err = scanComment(q.QueryRow(ctx, stmt, commentID, readerID, kinds(thread.WriteLike, thread.StatusPublished, thread.StatusPublished)))
		// The comment went (deleted by its author) after the caller read it.
		err = violates(err, "23503", "likes_comment_id_fkey", thread.CodeNotFound, "no comment found")
		return notFound(err, "comment")
	})
	return c, err
}
