package eventlog

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Notifier wakes every server's follower after writes committed: one NOTIFY, in a transaction of its own, for
// all the commits since the last one. A NOTIFY in the write's own transaction (a trigger) would serialize
// every such commit, disk flush included, on PostgreSQL's notification lock, which held posts to ~2,000/s
// on 2 cores where they reach ~8,000/s without; a transaction that only notifies writes nothing to disk, so
// it holds that lock for a moment. Should a server stop between a commit and its NOTIFY, followers still read
// the write at their next poll.
type Notifier struct {
	pool *pgxpool.Pool
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// notifyTimeout bounds one NOTIFY: with the database out of reach, the next write wakes the notifier again.
const notifyTimeout = 5 * time.Second

// NewNotifier returns a running notifier on pool; Close stops it.
func NewNotifier(pool *pgxpool.Pool) *Notifier {
	n := &Notifier{pool: pool, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go n.run()
	return n
}

// Committed says that a write with events committed: a NOTIFY follows soon, for it and any others meanwhile.
// It never blocks.
func (n *Notifier) Committed() {
	select {
	case n.wake <- struct{}{}:
	default: // a NOTIFY is due already, and comes after this commit
	}
}

func (n *Notifier) run() {
	defer close(n.done)
	for {
		select {
		case <-n.wake:
			n.notify()
		case <-n.stop:
			select {
			case <-n.wake: // a last commit's NOTIFY, before a command exits
				n.notify()
			default:
			}
			return
		}
	}
}

func (n *Notifier) notify() {
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	_, _ = n.pool.Exec(ctx, "SELECT pg_notify($1, '')", Channel)
}

// Close sends the NOTIFY still due, if any, and stops the notifier; call it before the pool closes.
func (n *Notifier) Close() {
	n.once.Do(func() {
		close(n.stop)
		<-n.done
	})
}
