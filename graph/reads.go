package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Reads records which articles a request read, so that a response cache can tell which writes make the response
// stale. Every object a query can reach is either site-wide (sites, readers: a change to them is reported for
// all articles) or belongs to one article that is noted where the query enters it: article(), Site.article and
// node()/nodes(). Replies, parents and a comment's article are reached from there, so they need no note.
type Reads struct {
	mu          sync.Mutex
	articles    []int64
	uncacheable bool
}

type readsKey struct{}

// WithReads returns a context whose request notes what it reads in the returned Reads.
func WithReads(ctx context.Context) (context.Context, *Reads) {
	r := &Reads{}
	return context.WithValue(ctx, readsKey{}, r), r
}

// Articles returns the IDs of the articles the request read.
func (r *Reads) Articles() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.articles...)
}

// Cacheable reports whether the response may be reused: the operation was a query, and every object it looked
// for by ID was found (an object created later would not be announced as a change to the response).
func (r *Reads) Cacheable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.uncacheable
}

func noteArticle(ctx context.Context, id int64) {
	if r, ok := ctx.Value(readsKey{}).(*Reads); ok {
		r.mu.Lock()
		r.articles = append(r.articles, id)
		r.mu.Unlock()
	}
}

func noteUncacheable(ctx context.Context) {
	if r, ok := ctx.Value(readsKey{}).(*Reads); ok {
		r.mu.Lock()
		r.uncacheable = true
		r.mu.Unlock()
	}
}

// onlyQueriesCacheable marks the responses of mutations and subscriptions uncacheable.
func onlyQueriesCacheable(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if op := graphql.GetOperationContext(ctx); op.Operation == nil || op.Operation.Operation != ast.Query {
		noteUncacheable(ctx)
	}
	return next(ctx)
}
