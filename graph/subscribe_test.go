package graph

import (
	"context"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/thread"
)

// TestEventsCarryingANewerCommentShowWhatItsStatusAllows: on PostgreSQL an event carries its comment as it
// is when the event is read, possibly changed by later writes (see thread.Event). What an anonymous reader
// gets must follow the comment's status, not the event's kind: a LIKED of a comment removed since shows the
// placeholder, not the body; an ADDED or EDITED of one held since does not reach them; an event of a comment
// whose row is gone names it by its IDs alone, and a DELETED of one they never saw is only IDs.
func TestEventsCarryingANewerCommentShowWhatItsStatusAllows(t *testing.T) {
	_, svc := teststore.Open(t)
	r := &Resolver{Service: svc}
	ctx := WithLoaders(context.Background(), svc)
	now := time.Now()
	comment := func(status thread.Status) *thread.Comment {
		return &thread.Comment{ID: 41, ArticleID: 7, ParentID: 40, AuthorID: 3, Body: "a secret", BodyHTML: "<p>a secret</p>",
			Status: status, LikeCount: 2, CreatedAt: now, Rule: "Spam"}
	}
	gone := &thread.Comment{ID: 41, ArticleID: 7, ParentID: 40, Status: thread.StatusDeleted}
	cases := []struct {
		name    string
		kind    thread.EventKind
		comment *thread.Comment
		event   bool   // the reader gets the event
		status  string // "" for no comment
		body    string
	}{
		{"liked, published", thread.EventLiked, comment(thread.StatusPublished), true, "PUBLISHED", "<p>a secret</p>"},
		{"liked, removed since", thread.EventLiked, comment(thread.StatusRemoved), true, "REMOVED", ""},
		{"added, removed since", thread.EventAdded, comment(thread.StatusRemoved), true, "REMOVED", ""},
		{"edited, removed since", thread.EventEdited, comment(thread.StatusRemoved), true, "REMOVED", ""},
		{"added, held since", thread.EventAdded, comment(thread.StatusPending), false, "", ""},
		{"edited, held since", thread.EventEdited, comment(thread.StatusPending), false, "", ""},
		{"held", thread.EventHeld, comment(thread.StatusPending), true, "", ""},
		{"added, gone since", thread.EventAdded, gone, true, "", ""},
		{"liked, gone since", thread.EventLiked, gone, true, "", ""},
		{"deleted, gone", thread.EventDeleted, gone, true, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := r.eventFor(ctx, live.Message{Event: thread.Event{Kind: c.kind, SiteID: 1, Comment: c.comment}})
			if err != nil {
				t.Fatal(err)
			}
			if (e != nil) != c.event {
				t.Fatalf("got event %+v, want one: %v", e, c.event)
			}
			if e == nil {
				return
			}
			if e.kind != eventKinds[c.kind] || e.id != 41 || e.parent != 40 {
				t.Errorf("event %s of %d (parent %d)", e.kind, e.id, e.parent)
			}
			status, body := "", ""
			if e.Comment != nil {
				status, body = string(e.Comment.Status()), e.Comment.Comment.BodyHTML
			}
			if status != c.status || body != c.body {
				t.Errorf("the comment is %q %q, want %q %q", status, body, c.status, c.body)
			}
		})
	}
}
