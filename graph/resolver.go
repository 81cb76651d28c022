// Package graph is Threadline's GraphQL API: gqlgen's generated executor, thin resolvers that decode IDs and
// arguments, call the thread service and encode the results, and the per-request dataloaders that keep a page
// of comments to a constant number of queries.
package graph

import (
	"context"

	"github.com/threadline/threadline/thread"
)

// Resolver is the root resolver; per-type resolvers embed it.
type Resolver struct {
	Service *thread.Service
	live    *subscriptions
}

// moderated wraps the comment a moderation mutation returns, after emptying the loaders' caches so that the
// payload's fields read the change.
func (r *Resolver) moderated(ctx context.Context, c *thread.Comment) *Comment {
	loadersFor(ctx).forget()
	return newComment(ctx, c)
}

// reloaded returns comment id as the viewer now sees it, after a write.
func (r *Resolver) reloaded(ctx context.Context, id int64) (*Comment, error) {
	loadersFor(ctx).forget()
	c, err := load(ctx, loadersFor(ctx).comments, id)
	if c == nil && err == nil {
		err = thread.Errorf(thread.CodeNotFound, "no comment has this ID")
	}
	return newComment(ctx, c), err
}

// deref returns what p points at, or "".
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// setLocked locks or unlocks the article with a global ID.
func (r *Resolver) setLocked(ctx context.Context, articleID string, locked bool, reason string) (*thread.Article, error) {
	id, err := idOf(kindArticle, articleID)
	if err != nil {
		return nil, err
	}
	a, err := r.Service.SetArticleLocked(ctx, id, locked, reason)
	loadersFor(ctx).forget()
	return a, err
}
