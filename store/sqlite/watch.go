package sqlite

import (
	"context"
	"time"
)

// Watcher notices changes that other processes commit to the database file: a `threadline import` or
// `threadline site` run beside the server, or any other SQLite client. The server keeps answers in memory (the
// response cache) that only its own writes invalidate; without a watcher, another process's change would stay
// hidden behind them until the server restarts.
//
// It polls PRAGMA data_version, which changes on a connection when any other connection has committed to the
// file since it last asked, and stays the same for the connection's own commits. It asks the store's writer
// connection: every write this process makes goes through that one connection (the read pool is query_only),
// so a change of its data_version is always somebody else's commit, and the writes of this process, however
// many, never make it report one. (A dedicated connection would see this process's own commits too, and could
// not tell them from others'.) Should the pool ever replace the writer connection, the new one's count starts
// afresh, so the watcher reports a change then: it may be spurious, but none is missed.
type Watcher struct {
	db       *DB
	changed  func()
	failed   func(error)
	interval time.Duration
	cancel   context.CancelFunc
	done     chan struct{}

	// What the last poll saw: the writer's driver connection and its data_version. Only run touches them.
	conn    any
	version int64
}

// DefaultWatchInterval is how often a Watcher asks: other processes' changes show within about this long.
const DefaultWatchInterval = 250 * time.Millisecond

// Watch starts a Watcher that calls changed, from its own goroutine, after each poll that finds changes
// committed by other processes since the last; failed (nil: ignored) hears of a poll that could not ask the
// database (the next one that can will catch up: data_version counts every change since). It takes its first
// reading before it returns, so any change committed by others after Watch returns is reported. It runs until
// Stop, which must come before the database is closed.
func (db *DB) Watch(interval time.Duration, changed func(), failed func(error)) (*Watcher, error) {
	if failed == nil {
		failed = func(error) {}
	}
	w := &Watcher{db: db, changed: changed, failed: failed, interval: interval, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := w.poll(ctx); err != nil {
		cancel()
		return nil, err
	}
	w.cancel = cancel
	go w.run(ctx)
	return w, nil
}

// Stop stops the watcher and waits for its goroutine to end.
func (w *Watcher) Stop() {
	w.cancel()
	<-w.done
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		switch changed, err := w.poll(ctx); {
		case ctx.Err() != nil:
			return
		case err != nil:
			w.failed(err)
		case changed:
			w.changed()
		}
	}
}

// poll reads the writer connection's data_version and reports whether others committed since the last poll.
// It holds the writer for one tiny statement, between two of this process's write transactions.
func (w *Watcher) poll(ctx context.Context) (bool, error) {
	conn, err := w.db.write.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var driverConn any
	if err := conn.Raw(func(dc any) error { driverConn = dc; return nil }); err != nil {
		return false, err
	}
	var version int64
	if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version); err != nil {
		return false, err
	}
	// Comparing the driver connections (pointers; the old one is kept alive by w.conn, so its address is not
	// reused) tells a replaced writer, whose count means nothing next to the old one's.
	changed := driverConn != w.conn || version != w.version
	w.conn, w.version = driverConn, version
	return changed, nil
}
