package eventlog

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/live"
)

// FollowerOptions say where a follower starts and whom it tells.
type FollowerOptions struct {
	// After is the position it starts after: Head, when the server starts.
	After live.Position
	// Changed is told of each article whose cached answers are stale (0: every article), for each batch
	// before Publish: a subscriber that reads the thread when an event comes reads it anew.
	Changed func(articleID int64)
	// ReaderChanged is told of each reader whose credentials a write changed (a KindReaderChanged record: a
	// suspension, an account deleted), for each batch after Changed and before Publish: the server checks that
	// reader's live connections again (thread.Service.ReaderChangedElsewhere).
	ReaderChanged func(readerID int64)
	// Publish receives the live events of each batch, in the log's order (a bus's Deliver).
	Publish func(msgs []live.Message)
	// Gap is called when events after the follower's position were pruned before it could read them (it was
	// cut off from the database for longer than the catch-up window); it goes on after position at. The server
	// resets its bus (subscribers get RESYNC); Changed(0) is called too, for the cache.
	Gap func(at live.Position)
	// Status is called with an error when the follower loses the database, and with nil once it has read
	// the log: first when it starts, then each time it is back. Nil comes after Changed was told of every row
	// committed before that read began (only rows held back behind a transaction still open may follow): a
	// response cache may then be trusted again (for /readyz, and a server's stale-if-error cache).
	Status func(err error)
	// Log receives a line when the follower loses the database and when it is back; nil: slog.Default().
	Log *slog.Logger

	// Batch is the most rows read at once (default 1,000).
	Batch int
	// Poll is how long the follower waits for a notification before it reads anyway: a safety net
	// (default 5 s).
	Poll time.Duration
	// Keep is how long events are kept for subscribers catching up (default DefaultKeep); negative: the
	// follower never prunes. PruneEvery is how often it prunes (default a minute).
	Keep, PruneEvery time.Duration
}

// DefaultKeep is how long the log keeps events by default: a widget that reconnects within it catches up; one
// away longer reloads.
const DefaultKeep = time.Hour

// Follower reads the log as it grows, on a connection of its own that LISTENs for the commits of writes.
type Follower struct {
	log  *Log
	opts FollowerOptions
	pos  live.Position
	lost bool
	read bool // it has read the log once
}

// Follow returns a follower of the log; Run runs it.
func (l *Log) Follow(opts FollowerOptions) *Follower {
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Keep == 0 {
		opts.Keep = DefaultKeep
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	opts.After.Epoch = live.LogEpoch
	return &Follower{log: l, opts: opts, pos: opts.After}
}

// Waits: between reconnections (doubling from the first to the last, with jitter; the last is short, so that a
// database back from an outage is read again within a second: until then, the server's /readyz says 503 and
// every read its cache holds goes to the database; a failed attempt costs a refused connection, or the connect
// timeout when the host does not answer), and before reading again
// while an open transaction holds committed events back (it may end with no notification: a rollback, or a
// write with no event), which bounds the delay it adds once it ended.
const (
	firstReconnectDelay = 100 * time.Millisecond
	lastReconnectDelay  = time.Second
	firstHeldBackDelay  = 5 * time.Millisecond
	lastHeldBackDelay   = 50 * time.Millisecond
)

// Run follows the log until ctx ends. When its connection is lost it reconnects, with backoff, LISTENs again
// and catches up from its last position, so that it misses nothing.
func (f *Follower) Run(ctx context.Context) error {
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		f.pruneNowAndThen(ctx)
	}()
	defer func() { <-pruned }()
	delay := firstReconnectDelay
	for {
		connected, err := f.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		f.setLost(err)
		if connected {
			delay = firstReconnectDelay
		}
		wait := delay/2 + rand.N(delay/2+1)
		delay = min(2*delay, lastReconnectDelay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (f *Follower) setLost(err error) {
	if f.lost {
		return
	}
	f.lost = true
	f.opts.Log.Warn("the event log is out of reach: live events and other servers' changes wait until it is back", "err", err)
	if f.opts.Status != nil {
		f.opts.Status(err)
	}
}

func (f *Follower) setBack() {
	if !f.lost && f.read {
		return
	}
	if f.lost {
		f.opts.Log.Info("the event log is back", "position", f.pos)
	}
	f.lost, f.read = false, true
	if f.opts.Status != nil {
		f.opts.Status(nil)
	}
}

// session connects, LISTENs, and reads the log whenever a notification, the poll, or an open transaction
// says there may be more, until the connection fails (connected: it got as far as reading).
func (f *Follower) session(ctx context.Context) (connected bool, err error) {
	cfg := f.log.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "threadline event follower"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, err
	}
	done, cancel := context.WithCancel(ctx)
	cancel() // for taking the notifications already received, without waiting
	heldBack := time.Duration(0)
	for {
		held, err := f.catchUp(ctx, conn)
		if err != nil {
			return connected, err
		}
		connected = true
		// Only now, after Changed heard of every row missed while it was away: back means caught up.
		f.setBack()
		wait := f.opts.Poll
		if held {
			heldBack = min(max(2*heldBack, firstHeldBackDelay), lastHeldBackDelay)
			wait = heldBack
		} else {
			heldBack = 0
		}
		waitCtx, cancel := context.WithTimeout(ctx, wait)
		_, err = conn.WaitForNotification(waitCtx)
		cancel()
		if ctx.Err() != nil {
			return true, nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return true, err
		}
		// The read that follows sees every commit notified so far: the queued notifications are spent.
		for {
			if _, err := conn.WaitForNotification(done); err != nil {
				break
			}
		}
	}
}

// catchUp reads and hands on every row below the oldest open transaction, in batches, and says whether rows
// committed above it wait.
func (f *Follower) catchUp(ctx context.Context, conn *pgx.Conn) (heldBack bool, err error) {
	for {
		p, err := read(ctx, conn, f.pos, 0, f.opts.Batch)
		if err != nil {
			return false, err
		}
		if p.future {
			f.opts.Log.Warn("the event log holds events from the future, restored from a dump of another cluster: they go, and subscribers reload")
			if err := f.log.forgetFuture(ctx); err != nil {
				return false, err
			}
			f.pos = live.Position{Epoch: live.LogEpoch} // before the pruned position: a gap, reported below
			continue
		}
		if f.pos.Compare(p.pruned) < 0 {
			f.opts.Log.Warn("events were pruned before this server could read them: its subscribers reload", "from", f.pos, "to", p.pruned)
			f.pos = p.pruned
			if f.opts.Gap != nil {
				f.opts.Gap(f.pos)
			}
			if f.opts.Changed != nil {
				f.opts.Changed(0)
			}
			continue
		}
		if err := f.hand(ctx, p.rows); err != nil {
			return false, err
		}
		f.pos = maxPosition(f.pos, p.through)
		if len(p.rows) < f.opts.Batch {
			return p.heldBack, nil
		}
	}
}

// hand tells Changed of the rows' articles, ReaderChanged of their readers, then Publish of their events.
func (f *Follower) hand(ctx context.Context, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	msgs, err := f.log.events(ctx, rows)
	if err != nil {
		return err
	}
	if f.opts.Changed != nil {
		articles := map[int64]bool{}
		for _, r := range rows {
			if r.Kind != KindReaderChanged { // says nothing of the cache
				articles[r.ArticleID] = true
			}
		}
		if articles[0] {
			f.opts.Changed(0)
		} else {
			for id := range articles {
				f.opts.Changed(id)
			}
		}
	}
	if f.opts.ReaderChanged != nil {
		seen := map[int64]bool{}
		for _, r := range rows {
			if r.Kind == KindReaderChanged && r.ReaderID != 0 && !seen[r.ReaderID] {
				seen[r.ReaderID] = true
				f.opts.ReaderChanged(r.ReaderID)
			}
		}
	}
	if f.opts.Publish != nil && len(msgs) > 0 {
		f.opts.Publish(msgs)
	}
	return nil
}

// pruneNowAndThen prunes, batch after batch while there is more, every PruneEvery, beside the reads.
func (f *Follower) pruneNowAndThen(ctx context.Context) {
	if f.opts.Keep < 0 {
		return
	}
	tick := time.NewTicker(f.opts.PruneEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for ctx.Err() == nil {
			n, err := f.log.Prune(ctx, f.opts.Keep)
			if err != nil {
				if ctx.Err() == nil {
					f.opts.Log.Debug("could not prune the event log", "err", err)
				}
				break
			}
			if n < DefaultPruneBatch {
				break
			}
		}
	}
}

// Position is where the follower stands; only for tests, while it does not run.
func (f *Follower) Position() live.Position { return f.pos }
