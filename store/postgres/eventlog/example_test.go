package eventlog_test

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

// store stands for the PostgreSQL store: what the log needs of it.
type store interface {
	CommentsByID(ctx context.Context, ids []int64) (map[int64]*thread.Comment, error)
	ReadersByID(ctx context.Context, ids []int64) (map[int64]*thread.Reader, error)
}

// Example shows what a server on PostgreSQL wires: a bus fed by its own follower of the log, which also
// tells the response cache what changed and /readyz whether the log is in reach; and what a store's write
// does.
func Example() {
	ctx := context.Background()
	var pool *pgxpool.Pool                 // the store's pool
	var db store                           // the store
	var cacheChanged func(int64)           // the response cache's invalidation: an article (0: every one)
	var followerDown atomic.Pointer[error] // for /readyz

	log := eventlog.New(pool, eventlog.Loaders{Comments: db.CommentsByID, Readers: db.ReadersByID})
	head, err := log.Head(ctx) // at start: fails when PostgreSQL is out of reach
	if err != nil {
		return
	}
	bus := live.NewLogged(64, 4096, log, head) // server.Options{Bus: bus}
	follower := log.Follow(eventlog.FollowerOptions{
		After:   head,
		Changed: cacheChanged,
		Publish: func(msgs []live.Message) { bus.Deliver(msgs...) },
		Gap:     bus.Reset,
		Status: func(err error) {
			if err != nil {
				followerDown.Store(&err)
			} else {
				followerDown.Store(nil)
			}
		},
		Log: slog.Default(),
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- follower.Run(runCtx) }()
	defer func() { stop(); <-done }() // on shutdown, before the pool closes

	// A write, in the store: its events commit with it, or not at all.
	_ = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// ... INSERT INTO comments ... RETURNING id, article_id, parent_id
		return eventlog.Append(ctx, tx,
			eventlog.Record{Kind: thread.EventAdded, SiteID: 1, ArticleID: 2, CommentID: 3},
			eventlog.Changed(1, 0)) // or, for site settings and the like, only the caches
	})
	// server.Options{Ready: ready}: 503 while the follower cannot read the log.
	ready := func(ctx context.Context) error {
		if p := followerDown.Load(); p != nil {
			return *p
		}
		return pool.Ping(ctx)
	}
	_ = ready
}
