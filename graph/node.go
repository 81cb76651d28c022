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
		return nodeOf(l.sites.LoadThunk(ctx, id))
	case kindArticle:
		return nodeOf(l.articles.LoadThunk(ctx, id))
	case kindComment:
		return nodeOf(l.comments.LoadThunk(ctx, id))
	case kindReader:
		return nodeOf(l.readers.LoadThunk(ctx, id))
	}
	return func() (Node, error) { return nil, nil } // a well-formed ID of no known kind names nothing
}

// nodeOf adapts a loader thunk to a Node thunk: a missing object is null, not an error, and a nil pointer
// becomes a nil interface so that the executor writes null.
func nodeOf[T any](thunk func() (*T, error)) func() (Node, error) {
	return func() (Node, error) {
		v, err := thunk()
		switch {
		case errors.Is(err, dataloadgen.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		case v == nil:
			return nil, nil
		}
		return v, nil
	}
}

// nullIfNotFound turns a NOT_FOUND error into a null result, as a nullable field answers for a missing object.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if thread.ErrorCode(err) == thread.CodeNotFound {
		return nil, nil
	}
	return v, err
}
