package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/threadline/threadline/thread"
)

// Options configure the GraphQL handler.
type Options struct {
	Log *slog.Logger
	// RequestID returns the ID the server gave the request, for logs of internal errors.
	RequestID func(context.Context) string
	// Live configures subscriptions; without a bus there are none.
	Live LiveOptions
	// Observer, if set, is told of every operation and of every error's code, for metrics.
	Observer Observer
}

// Observer watches the endpoint for metrics.
type Observer interface {
	// Operation is called for each operation executed: its name ("" when it has none) and its type.
	Operation(name, kind string)
	// Error is called with the extensions.code of each error answered.
	Error(code string)
}

// NewHandler returns the GraphQL endpoint over svc: GraphQL-over-HTTP (GET for queries, POST for everything),
// automatic persisted queries, introspection, complexity and depth limits, and errors with stable codes. The
// request context must carry loaders (WithLoaders) and the viewer (thread.WithViewer).
func NewHandler(svc *thread.Service, opts Options) *handler.Server {
	return newHandler(svc, opts).Server
}

// endpoint is the handler with its caches, which tests measure.
type endpoint struct {
	*handler.Server
	queries   *queryCache
	persisted persistedQueries
}

func newHandler(svc *thread.Service, opts Options) endpoint {
	live := &subscriptions{opts: opts.Live, byClient: map[string]int{}}
	if live.opts.PerConnection <= 0 {
		live.opts.PerConnection = DefaultSubscriptionsPerConnection
	}
	if live.opts.PerClient <= 0 {
		live.opts.PerClient = DefaultSubscriptionsPerClient
	}
	if live.opts.IdleTimeout <= 0 {
		live.opts.IdleTimeout = DefaultIdleTimeout
	}
	cfg := Config{Resolvers: &Resolver{Service: svc, live: live}}
	setComplexity(&cfg.Complexity)
	srv := handler.New(NewExecutableSchema(cfg))

	srv.AddTransport(transport.Options{})
	// Subscriptions: Server-Sent Events (a POST that accepts text/event-stream, so it goes before the plain
	// POST transport) and WebSocket with graphql-transport-ws. Any origin may connect, as with CORS: there are
	// no cookies, and credentials travel in connection_init.
	srv.AddTransport(boundedSSE{transport.SSE{KeepAlivePingInterval: 25 * time.Second}})
	srv.AddTransport(newWebsocketTransport(svc, live, opts.Log))
	srv.AddTransport(httpTransport{})

	// Every transport reaches the executor through CreateOperationContext, which runs the operation parameter
	// mutators below in this order, then parses and validates (with the token limit and capped errors), then
	// the operation context mutators in this order. So every bound holds on every transport, before
	// authentication (which happens at execution) and before gqlgen parses or validates anything.
	queries, persisted := newQueryCache(QueryCacheBytes), newPersistedQueries(PersistedQueryBytes)
	srv.SetQueryCache(queries)
	srv.SetParserTokenLimit(MaxTokens)
	srv.SetValidationRulesFn(cappedRules)
	srv.Use(extension.FixedComplexityLimit(MaxComplexity)) // after validation, first of the context mutators
	srv.Use(jsonLimits{})                                  // variables and extensions
	srv.Use(persisted)                                     // a hash alone becomes its query; kept once it passed
	srv.Use(documentLimits{known: queries})                // parse and measure, before validation
	srv.Use(extension.Introspection{})
	srv.AroundResponses(capErrors)
	srv.AroundResponses(budgetText) // inside capErrors: the errors of a spent budget are capped too
	srv.AroundFields(limitText)

	srv.AroundOperations(onlyQueriesCacheable)
	present := presentError(opts.Log, opts.RequestID)
	if obs := opts.Observer; obs != nil {
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			if op := graphql.GetOperationContext(ctx); op.Operation != nil {
				obs.Operation(op.Operation.Name, string(op.Operation.Operation))
			}
			return next(ctx)
		})
		inner := present
		present = func(ctx context.Context, err error) *gqlerror.Error {
			e := inner(ctx, err)
			code, _ := e.Extensions["code"].(string)
			obs.Error(code)
			return e
		}
	}
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(recoverPanics(opts.Log, opts.RequestID))
	return endpoint{srv, queries, persisted}
}
