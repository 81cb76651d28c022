package graph

import (
	"context"
	"time"

	"github.com/threadline/threadline/thread"
)

// Comment is a comment as the API shows it to the viewer of one request.
type Comment struct {
	*thread.Comment
	viewer *thread.Reader
}

// newComment wraps c for the request's viewer; nil stays nil.
func newComment(ctx context.Context, c *thread.Comment) *Comment {
	if c == nil {
		return nil
	}
	return &Comment{Comment: c, viewer: thread.Viewer(ctx)}
}

// ID returns the comment's global ID.
func (c *Comment) ID() string { return globalID(kindComment, c.Comment.ID) }

// Status returns the comment's status as the API names it.
func (c *Comment) Status() CommentStatus { return commentStatus(c.Comment.Status) }

// EditedAt returns when the comment was last edited, or nil.
func (c *Comment) EditedAt() *time.Time {
	if c.Comment.EditedAt.IsZero() {
		return nil
	}
	return &c.Comment.EditedAt
}

// ViewerCanEdit reports whether the viewer may edit or delete the comment.
func (c *Comment) ViewerCanEdit() bool { return thread.CanEdit(c.viewer, c.Comment) }

// Reader is a reader as the API shows it.
type Reader struct{ *thread.Reader }

func newReader(r *thread.Reader) *Reader {
	if r == nil {
		return nil
	}
	return &Reader{r}
}

// ID returns the reader's global ID.
func (r *Reader) ID() string { return globalID(kindReader, r.Reader.ID) }
