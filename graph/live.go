package graph

import (
	"strconv"
	"strings"

	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/thread"
)

// CommentEvent is a live event as one subscriber sees it.
type CommentEvent struct {
	at      live.Position
	kind    CommentEventKind
	id      int64
	parent  int64
	Comment *Comment
}

// Cursor returns the event's position, for catching up.
func (e *CommentEvent) Cursor() string { return encodeEventCursor(e.at) }

// Kind returns what happened.
func (e *CommentEvent) Kind() CommentEventKind { return e.kind }

// CommentID returns the comment's global ID, or nil for RESYNC.
func (e *CommentEvent) CommentID() *string { return optionalID(kindComment, e.id) }

// ParentID returns the parent's global ID, or nil.
func (e *CommentEvent) ParentID() *string { return optionalID(kindComment, e.parent) }

func optionalID(kind string, id int64) *string {
	if id == 0 {
		return nil
	}
	gid := globalID(kind, id)
	return &gid
}

// The event cursor is the bus position, behind the same opaque encoding as the log's cursors: "e1:" for a
// position of a single server's in-memory bus (epoch and number; after a restart the epoch is another, and the
// cursor brings RESYNC), "e2:" for a position in the durable event log of PostgreSQL (transaction and row IDs),
// valid on every server and after restarts. Each bus answers RESYNC to the other kind.
const (
	eventCursorPrefix    = "e1:"
	eventLogCursorPrefix = "e2:"
)

func encodeEventCursor(p live.Position) string {
	if p.Epoch == live.LogEpoch {
		return encodeOpaque(eventLogCursorPrefix + strconv.FormatUint(p.XID, 36) + ":" + strconv.FormatUint(p.Seq, 36))
	}
	return encodeOpaque(eventCursorPrefix + strconv.FormatUint(p.Epoch, 36) + ":" + strconv.FormatUint(p.Seq, 10))
}

func decodeEventCursor(cursor string) (live.Position, error) {
	invalid := thread.Errorf(thread.CodeInvalid, "invalid cursor: not a comment event cursor")
	if raw, ok := decodeOpaque(cursor, eventLogCursorPrefix); ok {
		xid, id, found := strings.Cut(raw, ":")
		p := live.Position{Epoch: live.LogEpoch}
		var err1, err2 error
		p.XID, err1 = strconv.ParseUint(xid, 36, 64)
		p.Seq, err2 = strconv.ParseUint(id, 36, 64)
		if !found || err1 != nil || err2 != nil || p.Seq == 0 {
			return live.Position{}, invalid
		}
		return p, nil
	}
	raw, ok := decodeOpaque(cursor, eventCursorPrefix)
	epoch, seq, found := strings.Cut(raw, ":")
	var p live.Position
	var err1, err2 error
	p.Epoch, err1 = strconv.ParseUint(epoch, 36, 64)
	p.Seq, err2 = strconv.ParseUint(seq, 10, 64)
	if !ok || !found || err1 != nil || err2 != nil || p.Seq == 0 {
		return live.Position{}, invalid
	}
	return p, nil
}

var eventKinds = map[thread.EventKind]CommentEventKind{
	thread.EventAdded: CommentEventKindAdded, thread.EventEdited: CommentEventKindEdited,
	thread.EventRemoved: CommentEventKindRemoved, thread.EventRestored: CommentEventKindRestored,
	thread.EventHeld: CommentEventKindHeld, thread.EventDeleted: CommentEventKindDeleted,
	thread.EventLiked: CommentEventKindLiked,
}

var _ live.Bus = (*live.Memory)(nil)
