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

// optional returns nil for the zero value, so that the API answers null.
func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// Rule returns the rule a removed or held comment is under, or nil.
func (c *Comment) Rule() *string { return optional(c.Comment.Rule) }

// Appeal is an appeal as the API shows it.
type Appeal struct{ *thread.Appeal }

// CommentID returns the global ID of the comment appealed about.
func (a *Appeal) CommentID() string { return globalID(kindComment, a.Appeal.CommentID) }

// CreatedAt returns when the author appealed.
func (a *Appeal) CreatedAt() time.Time { return a.At }

// Status returns where the appeal stands.
func (a *Appeal) Status() AppealStatus { return appealStatus(a.Decision) }

// Answer returns the moderator's reason, or nil while the appeal is open.
func (a *Appeal) Answer() *string { return optional(a.Appeal.Answer) }

// AnsweredAt returns when the appeal was answered, or nil.
func (a *Appeal) AnsweredAt() *time.Time { return optional(a.Appeal.AnsweredAt) }

func newAppeal(a *thread.Appeal) *Appeal {
	if a == nil {
		return nil
	}
	return &Appeal{a}
}

// ModerationAction is an entry of the public moderation log: it never names the moderator.
type ModerationAction struct{ a *thread.ModerationAction }

// Action returns what was done.
func (m ModerationAction) Action() ModerationActionKind { return actionKind(m.a.Kind) }

// Rule returns the rule cited, or nil.
func (m ModerationAction) Rule() *string { return optional(m.a.Rule) }

// Reason returns a lock's or an unlock's reason; the notes of other actions are for the author alone.
func (m ModerationAction) Reason() *string {
	if m.a.Kind == thread.ActionLock || m.a.Kind == thread.ActionUnlock {
		return optional(m.a.Note)
	}
	return nil
}

// CommentID returns the global ID of the comment acted on, or nil.
func (m ModerationAction) CommentID() *string {
	if m.a.CommentID == 0 {
		return nil
	}
	id := globalID(kindComment, m.a.CommentID)
	return &id
}

// Decision returns an appeal's outcome, or nil.
func (m ModerationAction) Decision() *AppealStatus {
	if m.a.Decision == "" {
		return nil
	}
	s := appealStatus(m.a.Decision)
	return &s
}

// By returns who acted: a moderator or the system.
func (m ModerationAction) By() ModeratorRole {
	if m.a.BySystem {
		return ModeratorRoleSystem
	}
	return ModeratorRoleModerator
}

// CreatedAt returns when.
func (m ModerationAction) CreatedAt() time.Time { return m.a.At }

// Report is a reader's report as the API shows it.
type Report struct{ *thread.Report }

// CommentID returns the global ID of the reported comment.
func (r *Report) CommentID() string { return globalID(kindComment, r.Report.CommentID) }

// CreatedAt returns when.
func (r *Report) CreatedAt() time.Time { return r.At }
