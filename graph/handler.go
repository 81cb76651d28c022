package graph

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/threadline/threadline/thread"
)

// Options configure the GraphQL handler.
type Options struct {
	Log *slog.Logger
	// RequestID returns the ID the server gave the request, for logs of internal errors.
	RequestID func(context.Context) string
}

// NewHandler returns the GraphQL endpoint over svc: GraphQL-over-HTTP (GET for queries, POST for everything),
// automatic persisted queries, introspection, complexity and depth limits, and errors with stable codes. The
// request context must carry loaders (WithLoaders) and the viewer (thread.WithViewer).
func NewHandler(svc *thread.Service, opts Options) *handler.Server {
	cfg := Config{Resolvers: &Resolver{Service: svc}}
	setComplexity(&cfg.Complexity)
	srv := handler.New(NewExecutableSchema(cfg))

	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{})

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(shapeLimit{maxDepth: MaxDepth, maxFields: MaxFields}) // before the complexity walk, which it protects
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))

	srv.AroundOperations(onlyQueriesCacheable)
	srv.SetErrorPresenter(presentError(opts.Log, opts.RequestID))
	srv.SetRecoverFunc(recoverPanic)
	return srv
}
