package graph

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"github.com/threadline/threadline/thread"
)

// node returns the object with a global ID, or nil.
func (r *Resolver) node(ctx context.Context, gid string) (Node, error) {
	return r.nodeThunk(ctx, gid)()
}

// nodeThunk starts the lookup of a global ID through the loaders and returns a function that waits for it.
func (r *Resolver) nodeThunk(ctx context.Context, gid string) func() (Node, error) {
	kind, id, err := parseGlobalID(gid)
	if err != nil {
		return func() (Node, error) { return nil, err }
	}
	l := loadersFor(ctx)
	switch kind {
	case kindSite:
		return nodeOf(ctx, l.sites.LoadThunk(ctx, id), same)
	case kindArticle:
		return nodeOf(ctx, l.articles.LoadThunk(ctx, id), func(a *thread.Article) Node {
			noteArticle(ctx, a.ID)
			return a
		})
	case kindComment:
		return nodeOf(ctx, l.comments.LoadThunk(ctx, id), func(c *thread.Comment) Node {
			noteArticle(ctx, c.ArticleID)
			return newComment(ctx, c)
		})
	case kindReader:
		return nodeOf(ctx, l.readers.LoadThunk(ctx, id), func(r *thread.Reader) Node { return newReader(r) })
	}
	noteUncacheable(ctx)
	return func() (Node, error) { return nil, nil } // a well-formed ID of no known kind names nothing
}

// nodeOf adapts a loader thunk to a Node thunk: a missing object is null, not an error, and a nil pointer
// becomes a nil interface so that the executor writes null.
func nodeOf[T any](ctx context.Context, thunk func() (*T, error), node func(*T) Node) func() (Node, error) {
	return func() (Node, error) {
		v, err := thunk()
		switch {
		case err != nil && !errors.Is(err, dataloadgen.ErrNotFound):
			return nil, err
		case v == nil:
			// What is missing now may exist later, and its creation would not be announced as a change to
			// this response.
			noteUncacheable(ctx)
			return nil, nil
		}
		return node(v), nil
	}
}

// same is the Node of a domain type the API shows as it is.
func same[T any](v *T) Node { return v }

// noted returns a function that notes, as read by the request, the article it passes through.
func noted(ctx context.Context) func(*thread.Article, error) (*thread.Article, error) {
	return func(a *thread.Article, err error) (*thread.Article, error) {
		if a != nil {
			noteArticle(ctx, a.ID)
		}
		return a, err
	}
}

// nullIfNotFound turns a NOT_FOUND error into a null result, as a nullable field answers for a missing object.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if thread.ErrorCode(err) == thread.CodeNotFound {
		return nil, nil
	}
	return v, err
}
