package thread

import (
	"context"
	"sync"
)

// EventKind is what happened to a comment.
type EventKind string

// The kinds of live events.
const (
	EventAdded    EventKind = "added"    // posted, or approved by a moderator
	EventEdited   EventKind = "edited"   // its author changed its body
	EventRemoved  EventKind = "removed"  // a moderator removed it, citing a rule
	EventRestored EventKind = "restored" // a moderator published it again
	EventHeld     EventKind = "held"     // readers' reports held it for review
	EventDeleted  EventKind = "deleted"  // its author deleted it
	EventLiked    EventKind = "liked"    // its like count changed
)

// Event is a committed change to a comment, for the live subscribers of its article. Comment is the comment
// as it now is, whatever the viewer may see of it (subscribers filter by its Status, never by Kind); for a
// deleted comment with no replies, whose row is gone, it holds only the IDs (Gone).
//
// How new "now" is depends on where events come from. Published in process (SQLite: the Service after each
// write), Comment is exactly as the write left it. Read from the durable event log (PostgreSQL: the log holds
// IDs, and a server's follower loads the comments when it reads), Comment is as it is when the event is read,
// never older than the write that made the event: the kind, the comment's ID, its article and parent, and
// the order of events are exact; its other fields are at least as new, possibly newer by later writes (an
// ADDED may carry an edited body and likes, a LIKED a removed comment, an ADDED a Gone one). Those later
// writes have events of their own, which follow. Subscribers must therefore decide what a viewer may see from
// Comment.Status alone, and must take a DELETED for a comment they never saw as harmless.
type Event struct {
	Kind    EventKind
	SiteID  int64
	Comment *Comment
	// Author is the comment's author, looked up once for all subscribers; nil for none.
	Author *Reader
}

// Gone reports whether the comment's row is gone (deleted with no replies): only its IDs are left.
func (c *Comment) Gone() bool { return c.Status == StatusDeleted && c.CreatedAt.IsZero() }

// ArticleID is the article the event is about.
func (e Event) ArticleID() int64 { return e.Comment.ArticleID }

// OnEvent registers fn to receive every event, in the order the writes committed. It runs while writes wait,
// so it must be quick and must not block: a bus's Publish.
func (s *Service) OnEvent(fn func(Event)) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.onEvents = append(s.onEvents, fn)
}

// writeOrder serializes a write's commit with the announcement of its events, so that events leave in commit
// order. The store has one writer connection, so this adds no waiting that the database did not already impose.
type writeOrder struct{ sync.Mutex }

// EventLogger is implemented by a store that records, in the transaction of each write, what the write
// announces (the events of Announced, or that an article changed) in a durable log every server reads
// (store/postgres). A server that follows that log (PublishFromLog) publishes from it: the database orders
// the commits, and each server's follower publishes the events, in that order, to its subscribers and tells
// ChangedElsewhere what changed.
type EventLogger interface {
	LogsEvents() bool
}

// CommentWrite names a write to a comment, for Announced.
type CommentWrite int

// The writes to a comment that announce live events.
const (
	WriteAdd      CommentWrite = iota + 1 // posted
	WriteEdit                             // its author changed its body
	WriteDelete                           // its author deleted it
	WriteLike                             // liked or unliked
	WriteModerate                         // a moderator, or readers' reports, moved it between statuses
)

// Announced returns the events a committed write announces, about c as it now is (for a deletion, as
// DeletedComment returns it), on site siteID. from is c's status before the write (for WriteModerate: no
// event when its status did not change). The Service announces them in process; a store that logs events
// (EventLogger) records the same ones in the write's transaction.
func Announced(w CommentWrite, siteID int64, from Status, c *Comment) []Event {
	if c == nil {
		return nil
	}
	var kind EventKind
	switch w {
	case WriteAdd:
		kind = EventAdded
	case WriteEdit:
		kind = EventEdited
	case WriteDelete:
		kind = EventDeleted
	case WriteLike:
		kind = EventLiked
	case WriteModerate:
		switch {
		case c.Status == from:
			return nil
		case c.Status == StatusRemoved:
			kind = EventRemoved
		case c.Status == StatusPending:
			kind = EventHeld
		case from == StatusRemoved:
			kind = EventRestored
		default:
			kind = EventAdded // a pending comment approved: readers see it for the first time
		}
	default:
		return nil
	}
	return []Event{{Kind: kind, SiteID: siteID, Comment: c}}
}

// DeletedComment returns what the deletion of c, as it was, leaves for its event: the placeholder the store
// returned, or, when its row is gone (nil), a comment that holds only its IDs.
func DeletedComment(c, placeholder *Comment) *Comment {
	if placeholder != nil {
		return placeholder
	}
	return &Comment{ID: c.ID, ArticleID: c.ArticleID, ParentID: c.ParentID, Status: StatusDeleted, Depth: c.Depth}
}

// inOrder runs write and then, before any other write may commit, tells the OnChange functions of the article
// it changed and the OnEvent functions of its events (none when events returns none). Once the Service
// publishes from its store's log (PublishFromLog) it only runs write and tells OnChange, here at once (this
// server's cache), while the log tells every server's, and publishes the events.
func inOrder[T any](ctx context.Context, s *Service, articleID int64, write func() (T, error), events func(T) []Event) (T, error) {
	if s.logged.Load() {
		v, err := write()
		if err == nil {
			s.changed(articleID)
		}
		return v, err
	}
	s.order.Lock()
	defer s.order.Unlock()
	v, err := write()
	if err != nil {
		return v, err
	}
	s.changed(articleID)
	if events == nil {
		return v, nil
	}
	list := events(v)
	s.withAuthors(ctx, list)
	s.changeMu.RLock()
	defer s.changeMu.RUnlock()
	for _, e := range list {
		for _, fn := range s.onEvents {
			fn(e)
		}
	}
	return v, nil
}

// announce returns a function that makes the events of write w about the comment a write returns, whose status
// was from. author is the comment's author when the caller has it at hand (the viewer who wrote it), nil to
// look it up.
func announce(w CommentWrite, siteID int64, from Status, author *Reader) func(*Comment) []Event {
	return func(c *Comment) []Event {
		list := Announced(w, siteID, from, c)
		for i := range list {
			list[i].Author = author
		}
		return list
	}
}

// AsSeen returns the comment as the request's viewer may see it (see shown), or nil when they may not.
func (s *Service) AsSeen(ctx context.Context, c *Comment) (*Comment, error) {
	list, err := s.shown(ctx, []*Comment{c})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// withAuthors looks up, in one query, the authors the events do not carry already, so that thousands of
// subscribers do not each look them up again. Without them, subscribers still work: they look the author up
// themselves.
func (s *Service) withAuthors(ctx context.Context, list []Event) {
	var ids []int64
	for _, e := range list {
		if e.Comment.AuthorID != 0 && e.Author == nil {
			ids = append(ids, e.Comment.AuthorID)
		}
	}
	if len(ids) == 0 {
		return
	}
	readers, err := s.readers.ReadersByID(ctx, ids)
	if err != nil {
		return
	}
	for i := range list {
		if list[i].Author == nil {
			list[i].Author = readers[list[i].Comment.AuthorID]
		}
	}
}
