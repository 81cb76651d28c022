package graph

import (
	"strings"

	"github.com/threadline/threadline/thread"
)

func (o CommentOrder) order() thread.Order {
	switch o {
	case CommentOrderNewest:
		return thread.OrderNewest
	case CommentOrderOldest:
		return thread.OrderOldest
	}
	return thread.OrderTop
}

func commentStatus(s thread.Status) CommentStatus {
	switch s {
	case thread.StatusPending:
		return CommentStatusPending
	case thread.StatusRemoved:
		return CommentStatusRemoved
	case thread.StatusDeleted:
		return CommentStatusDeleted
	}
	return CommentStatusPublished
}

func appealStatus(d thread.Decision) AppealStatus {
	switch d {
	case thread.DecisionUpheld:
		return AppealStatusUpheld
	case thread.DecisionReversed:
		return AppealStatusReversed
	}
	return AppealStatusOpen
}

func (d AppealDecision) decision() thread.Decision {
	if d == AppealDecisionReverse {
		return thread.DecisionReversed
	}
	return thread.DecisionUpheld
}

// actionKind names a moderation action as the API does: ANSWER_APPEAL for answer_appeal.
func actionKind(k thread.ActionKind) ModerationActionKind {
	return ModerationActionKind(strings.ToUpper(string(k)))
}
