package sqlite

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
	rows, err := db.reader().QueryContext(ctx, "SELECT comment_id FROM likes WHERE reader_id = ? AND comment_id"+inIDs,
		readerID, idList(commentIDs))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Like records the reader's like of the comment, once however often it is asked, and returns the comment.
func (db *DB) Like(ctx context.Context, commentID, readerID int64) (*thread.Comment, error) {
	return db.changeLike(ctx, commentID, "INSERT INTO likes (comment_id, reader_id) VALUES (?, ?) ON CONFLICT DO NOTHING", readerID, +1)
}

// Unlike withdraws the reader's like of the comment, if any, and returns the comment.
func (db *DB) Unlike(ctx context.Context, commentID, readerID int64) (*thread.Comment, error) {
	return db.changeLike(ctx, commentID, "DELETE FROM likes WHERE comment_id = ? AND reader_id = ?", readerID, -1)
}

// changeLike runs stmt and, if it changed a row, moves the comment's like count by delta.
func (db *DB) changeLike(ctx context.Context, commentID int64, stmt string, readerID int64, delta int) (*thread.Comment, error) {
	var c *thread.Comment
	err := db.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, stmt, commentID, readerID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		c, err = scanComment(tx.QueryRowContext(ctx, "UPDATE comments SET like_count = like_count + ? WHERE id = ? RETURNING "+commentColumns,
			delta*int(n), commentID))
		return notFound(err, "comment")
	})
	return c, err
}
