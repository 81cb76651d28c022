// Package server wires Threadline's HTTP surface: the GraphQL endpoint, GraphiQL, health checks, and the
// middleware every request passes through (request IDs, logs, panics, CORS, size limits, authentication).
// It parses and maps; the rules live in package thread.
package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/threadline/threadline/graph"
	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/server/graphiql"
	"github.com/threadline/threadline/thread"
)

// Options configure the HTTP handler.
type Options struct {
	Log *slog.Logger
	// Health reports whether the server can serve: the database answers.
	Health func(context.Context) error
	// Ready reports whether the server should be sent traffic: healthy, and not shutting down. Nil: Health.
	Ready func(context.Context) error
	// Pools are the database's connection pools, by name, for /metrics.
	Pools map[string]*sql.DB
	// MaxBodyBytes bounds a request body. A comment of 10,000 characters takes at most 40 KB of UTF-8, 60 KB
	// as JSON escapes, so the default of 256 KiB leaves room for variables and a query.
	MaxBodyBytes int64
	// TrustProxy takes the client's address, for rate limits, from the last entry of X-Forwarded-For: the
	// address a reverse proxy in front of Threadline saw. Set it only behind such a proxy; otherwise any
	// client could name itself a new address for every request.
	TrustProxy bool
	// Bus carries live events to subscribers; nil for an in-memory bus (one server).
	Bus live.Bus
	// CacheInDoubt reports whether the response cache may have missed other servers' writes (on a shared
	// database, while this server's follower of the event log is lost or catching up). Meanwhile a cached
	// answer is served only when the database cannot answer (stale-if-error), and none is stored. Nil: never
	// (one server, whose own writes tell the cache).
	CacheInDoubt func() bool
	// SubscriberBuffer is how many events a subscriber may lag behind before it is dropped (in-memory bus).
	SubscriberBuffer int
	// Live bounds subscriptions (see graph.LiveOptions; zero values take the defaults).
	SubscriptionsPerConnection, SubscriptionsPerClient int
	IdleTimeout                                        time.Duration
}

// DefaultSubscriberBuffer is how many events a subscriber may lag behind by default: a burst on a busy
// article, not a reader who stopped reading.
const DefaultSubscriberBuffer = 64

// eventHistory is how many recent events the in-memory bus keeps for subscribers that reconnect.
const eventHistory = 4096

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 256 << 10

// New returns the handler of every route Threadline serves.
func New(svc *thread.Service, opts Options) http.Handler {
	h, _ := newServer(svc, opts)
	return h
}

// newServer is New, with the response cache for tests to measure.
func newServer(svc *thread.Service, opts Options) (http.Handler, *responseCache) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Bus == nil {
		if opts.SubscriberBuffer <= 0 {
			opts.SubscriberBuffer = DefaultSubscriberBuffer
		}
		opts.Bus = live.NewMemory(opts.SubscriberBuffer, eventHistory)
	}
	svc.OnEvent(opts.Bus.Publish)
	if opts.Ready == nil {
		opts.Ready = opts.Health
	}
	m := newMetrics(opts.Bus, opts.Pools)
	api := graph.NewHandler(svc, graph.Options{Log: opts.Log, RequestID: RequestID, Observer: m, Live: graph.LiveOptions{
		Bus: opts.Bus, PerConnection: opts.SubscriptionsPerConnection, PerClient: opts.SubscriptionsPerClient, IdleTimeout: opts.IdleTimeout,
	}})
	ide := graphiql.New("Threadline", "/graphql", "/graphiql/")

	cache := newResponseCache(responseCacheBytes, responseCacheMaxEntry)
	cache.inDoubt = opts.CacheInDoubt
	svc.OnChange(cache.changed)

	mux := http.NewServeMux()
	mux.Handle("/graphql", cors(graphQLRequests(limitBody(opts.MaxBodyBytes, streams(cache.middleware(clientAddress(opts.TrustProxy, authenticate(svc, withLoaders(svc, api)))))))))
	// The widget reads as an anonymous client of the same API, through the same cache.
	widgets := clientAddress(opts.TrustProxy, widgetHandler(svc, cache.middleware(withLoaders(svc, api)), opts.Log))
	mux.Handle("GET "+embedPrefix+"/", widgets)
	mux.Handle("GET /embed.js", widgets)
	mux.Handle("GET /count.js", widgets)
	mux.Handle("GET /{$}", ide.Page())
	mux.Handle("GET /graphiql/assets/", ide.Assets())
	mux.HandleFunc("GET /healthz", health(opts.Log, opts.Health))
	mux.HandleFunc("GET /readyz", health(opts.Log, opts.Ready))
	mux.Handle("GET /metrics", m.handler())
	mux.Handle("GET /export", cors(clientAddress(opts.TrustProxy, authenticate(svc, exportHandler(svc, opts.Log)))))

	return requestID(logRequests(opts.Log, m, recoverPanics(opts.Log, securityHeaders(mux)))), cache
}

// health answers 200 when check passes within two seconds (the database answers; for /readyz, also the server
// is not shutting down), 503 otherwise, logging why with the request's ID.
func health(log *slog.Logger, check func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, body := http.StatusOK, map[string]string{"status": "ok"}
		if check != nil {
			if err := check(ctx); err != nil {
				log.WarnContext(r.Context(), "unhealthy", "request_id", RequestID(r.Context()), "path", r.URL.Path, "err", err)
				status, body = http.StatusServiceUnavailable, map[string]string{"status": "unavailable"}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

// writeGraphQLError answers a request that never reached the GraphQL executor with a GraphQL-shaped error, so
// that clients handle every failure the same way.
func writeGraphQLError(w http.ResponseWriter, status int, code thread.Code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}
