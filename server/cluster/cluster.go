// Package cluster wires one Threadline server to the PostgreSQL database it shares with other servers: its
// live bus is fed by its own follower of the durable event log (store/postgres/eventlog), which also tells the
// thread service, and through it the response cache, what every server changed, and tells /readyz whether
// the log is in reach.
package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/store/postgres"
	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

// Options tune a Node; zero values take the defaults.
type Options struct {
	Log *slog.Logger
	// SubscriberBuffer is how many events a subscriber may lag behind before it is dropped.
	SubscriberBuffer int
	// History is how many recent events the bus remembers for subscribers that reconnect; older ones are read
	// from the log.
	History int
	// Keep is how long the log keeps events for subscribers catching up (default eventlog.DefaultKeep, an
	// hour: a widget whose reader's laptop slept, or whose network dropped, for less than that catches up;
	// one away longer reloads the thread anyway). Negative: this server never prunes.
	Keep time.Duration
	// Poll is how long the follower waits for a notification before it reads anyway (default 5 s).
	Poll time.Duration
}

// Defaults of the bus.
const (
	DefaultSubscriberBuffer = 64
	DefaultHistory          = 4096
)

// PingTimeout bounds the database ping of a health check: a check that waits on a lost database's connect
// timeout would hold the prober's connection, and tell it nothing more.
const PingTimeout = time.Second

// Node is one server's part in the cluster: its bus, the follower that feeds it, and its health.
type Node struct {
	// Bus is the server's live bus (server.Options.Bus).
	Bus *live.Memory

	db       *postgres.DB
	follower *eventlog.Follower
	lost     atomic.Pointer[error] // why the follower cannot read the log; nil while it can
	caughtUp atomic.Bool           // the follower has read the log, and has not lost it since

	stop    context.CancelFunc
	done    chan struct{}
	stopped sync.Once
}

// New prepares svc's server on db: svc publishes from the log from now on (thread's PublishFromLog), and the
// bus starts at the log's head, so that it publishes the events committed from now on. It fails when the
// database cannot be read. Start runs the follower.
func New(ctx context.Context, db *postgres.DB, svc *thread.Service, opts Options) (*Node, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.SubscriberBuffer <= 0 {
		opts.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	log := eventlog.New(db.Pool(), eventlog.Loaders{Comments: db.CommentsByID, Readers: db.ReadersByID})
	head, err := log.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the event log: %w", err)
	}
	if err := svc.PublishFromLog(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{db: db, done: make(chan struct{})}
	n.Bus = live.NewLogged(opts.SubscriberBuffer, opts.History, log, head)
	n.follower = log.Follow(eventlog.FollowerOptions{
		After: head,
		// Each article's cached answers on this server, or all of them for a change to a whole site.
		Changed: svc.ChangedElsewhere,
		// A reader suspended or deleted through another server: this one ends their live connections too.
		ReaderChanged: svc.ReaderChangedElsewhere,
		Publish:       func(msgs []live.Message) { n.Bus.Deliver(msgs...) },
		// Events were pruned before this server read them: its subscribers reload (RESYNC).
		Gap: n.Bus.Reset,
		Status: func(err error) {
			if err != nil {
				n.caughtUp.Store(false)
				n.lost.Store(&err)
			} else {
				n.lost.Store(nil)
				n.caughtUp.Store(true) // after Changed heard of every row it missed (see FollowerOptions.Status)
			}
		},
		Log:  opts.Log,
		Keep: opts.Keep,
		Poll: opts.Poll,
	})
	return n, nil
}

// Start runs the follower until Stop.
func (n *Node) Start() {
	ctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	go func() {
		defer close(n.done)
		_ = n.follower.Run(ctx)
	}()
}

// Stop stops the follower and waits for it: call it before the database's pool closes.
func (n *Node) Stop() {
	n.stopped.Do(func() {
		if n.stop == nil {
			return
		}
		n.stop()
		<-n.done
	})
}

// Health reports whether the database answers a ping within PingTimeout.
func (n *Node) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	return n.db.Ping(ctx)
}

// Behind reports whether other servers may have written what this server has not heard of: its follower has
// not read the log yet, or lost it and has not caught up since. Meanwhile its response cache is in doubt
// (server.Options.CacheInDoubt).
func (n *Node) Behind() bool { return !n.caughtUp.Load() }

// Ready reports whether the server should have traffic: the database answers and the follower reads the log
// (without it, this server's subscribers and cache would not hear of other servers' writes).
func (n *Node) Ready(ctx context.Context) error {
	if p := n.lost.Load(); p != nil {
		return fmt.Errorf("the event log is out of reach: %w", *p)
	}
	return n.Health(ctx)
}
