package graph

import (
	"strconv"

	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/thread"
)

// CommentEvent is a live event as one subscriber sees it.
type CommentEvent struct {
	seq     uint64
	kind    CommentEventKind
	id      int64
	parent  int64
	Comment *Comment
}

// Cursor returns the event's position, for catching up.
func (e *CommentEvent) Cursor() string { return encodeEventCursor(e.seq) }

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

// The event cursor is the bus's sequence number, behind the same opaque encoding as the log's cursors.
const eventCursorPrefix = "e1:"

func encodeEventCursor(seq uint64) string {
	return encodeOpaque(eventCursorPrefix + strconv.FormatUint(seq, 10))
}

func decodeEventCursor(cursor string) (uint64, error) {
	raw, ok := decodeOpaque(cursor, eventCursorPrefix)
	seq, err := strconv.ParseUint(raw, 10, 64)
	if !ok || err != nil || seq == 0 {
		return 0, thread.Errorf(thread.CodeInvalid, "invalid cursor: not a comment event cursor")
	}
	return seq, nil
}

var eventKinds = map[thread.EventKind]CommentEventKind{
	thread.EventAdded: CommentEventKindAdded, thread.EventEdited: CommentEventKindEdited,
	thread.EventRemoved: CommentEventKindRemoved, thread.EventRestored: CommentEventKindRestored,
	thread.EventHeld: CommentEventKindHeld, thread.EventDeleted: CommentEventKindDeleted,
	thread.EventLiked: CommentEventKindLiked,
}

var _ live.Bus = (*live.Memory)(nil)
