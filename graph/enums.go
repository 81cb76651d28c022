package graph

import "github.com/threadline/threadline/thread"

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
