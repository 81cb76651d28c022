// Package live carries committed changes to an article's comments to the subscribers of that article. Bus is
// the small interface the server needs; Memory is the bus of a single server, or, fed by the durable event
// log that several servers share (PostgreSQL), one server's view of it.
package live

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threadline/threadline/thread"
)

// Bus delivers events to the subscribers of their article.
type Bus interface {
	// Publish hands an event to every subscriber of its article. It never blocks: a subscriber whose buffer
	// is full is dropped instead. Events must be published in commit order.
	Publish(e thread.Event)
	// Subscribe starts a subscription to an article's events. After a position (not the zero Position), it
	// first replays the events published since, if the bus still has them all; otherwise the subscription
	// ends at once with ErrMissed.
	Subscribe(articleID int64, after Position) *Subscription
}

// Position is where an event stands among a bus's events. Positions of one epoch are ordered by (XID, Seq).
type Position struct {
	// Epoch names the sequence: random for an in-process bus, which forgets its events when it restarts
	// (NewMemory), LogEpoch for the durable log that every server reads (NewLogged).
	Epoch uint64
	// XID is, in the log, the ID of the transaction that wrote the event; 0 in memory.
	XID uint64
	// Seq is the event's number: consecutive in memory, the log row's ID in the log.
	Seq uint64
}

// LogEpoch is the epoch of positions in the durable event log: the same on every server and across restarts.
const LogEpoch = 0

// Compare orders positions of one epoch: -1 if p is before q, 0 if they are the same, +1 if p is after q.
func (p Position) Compare(q Position) int {
	if c := cmp.Compare(p.XID, q.XID); c != 0 {
		return c
	}
	return cmp.Compare(p.Seq, q.Seq)
}

// Source is the durable log of events, for subscribers whose position is older than the events a bus
// remembers (the event log of store/postgres implements it).
type Source interface {
	// Read returns the article's events after position after, oldest first, at most limit of them, and the
	// position through which the log was read: every event of the article up to it has been returned. It
	// fails with ErrMissed when some events after `after` are no longer kept.
	Read(ctx context.Context, after Position, articleID int64, limit int) (events []Message, through Position, err error)
}

// Message is an event with its position.
type Message struct {
	Position
	Event thread.Event
}

// Why a subscription ends.
var (
	// ErrSlowConsumer ends a subscription whose reader fell so far behind that its buffer filled.
	ErrSlowConsumer = errors.New("the subscriber fell behind: reload, then subscribe again")
	// ErrMissed says that events were missed before the subscription started: the bus no longer has them.
	ErrMissed = errors.New("events since the last one received are no longer available: reload, then subscribe again")
)

// Subscription is one subscriber's stream of events.
type Subscription struct {
	// C delivers the events. It is closed when the subscription ends; Err then says why.
	C <-chan Message

	ch      chan Message
	done    chan struct{} // closed with ch, for a sender waiting elsewhere
	article int64
	bus     *Memory
	err     error // set before ch is closed

	// Guarded by bus.mu:
	after    Position // events at or before it were delivered already (by a catch-up)
	closed   bool
	catching bool               // a catch-up from the log owns ch: it closes ch when it ends
	cancel   context.CancelFunc // ends the catch-up's reads; nil for none
}

// Done is closed when the subscription ends, as C is; it lets a forwarder blocked on its own consumer notice.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended: nil when its owner closed it.
func (s *Subscription) Err() error { return s.err }

// Close ends the subscription.
func (s *Subscription) Close() { s.bus.remove(s, nil) }

// Memory is a bus that fans events out in process. It is either the whole bus of a single server
// (NewMemory: Publish numbers the events, and a restart forgets them) or one server's view of the durable log
// that every server reads (NewLogged: its follower hands it the log's events with their positions, Deliver,
// and subscribers older than its memory catch up from the log). Its zero value is not usable.
type Memory struct {
	buffer int
	epoch  uint64
	source Source // nil for an in-process bus

	// history and historyBytes bound the events remembered for subscribers that reconnect, in number and in
	// bytes: a comment may hold 10,000 characters twice over (source and HTML), so a bound in number alone
	// would let a few thousand long comments hold hundreds of megabytes.
	history, historyBytes int

	// reads bounds the catch-ups reading the log at once: when a server goes, its subscribers all come back.
	reads chan struct{}

	mu          sync.RWMutex
	subs        map[int64]map[*Subscription]struct{}
	seq         uint64    // the last in-process event's number
	floor, last Position  // recent holds every event after floor, up to last
	recent      []Message // the last events, oldest first
	recentBytes int       // eventBytes of the events in recent
	dropped     atomic.Int64
}

// DefaultHistoryBytes bounds the bytes of the events a Memory bus remembers.
const DefaultHistoryBytes = 16 << 20

// NewMemory returns the bus of a single server: it buffers up to buffer events per subscriber and remembers
// the last history events (and at most DefaultHistoryBytes of them), for subscribers that reconnect.
func NewMemory(buffer, history int) *Memory {
	m := newMemory(buffer, history)
	m.epoch = rand.Uint64() | 1
	m.floor = Position{Epoch: m.epoch}
	m.last = m.floor
	return m
}

// NewLogged returns a bus fed with the events of the durable log src, by Deliver, from the one after start
// on. It remembers the last history events; a subscriber after an older position catches up from src before
// it receives live events, with neither gap nor repeat. Publish does nothing: events come from the log.
func NewLogged(buffer, history int, src Source, start Position) *Memory {
	m := newMemory(buffer, history)
	m.epoch, m.source = LogEpoch, src
	m.floor, m.last = start, start
	m.floor.Epoch, m.last.Epoch = LogEpoch, LogEpoch
	return m
}

func newMemory(buffer, history int) *Memory {
	return &Memory{buffer: max(buffer, 1), subs: map[int64]map[*Subscription]struct{}{},
		history: max(history, 1), historyBytes: DefaultHistoryBytes, reads: make(chan struct{}, catchUpReads)}
}

// Catching up from the log: events read at once, reads at once, and how long one catch-up may take.
const (
	catchUpBatch   = 500
	catchUpReads   = 4
	catchUpTimeout = 30 * time.Second
)

// eventBytes is about what an event holds in memory: its comment's texts and a fixed part for the rest.
func eventBytes(e thread.Event) int {
	n := 512
	if c := e.Comment; c != nil {
		n += len(c.Body) + len(c.BodyHTML) + len(c.Rule) + len(c.Note)
	}
	if e.Author != nil {
		n += len(e.Author.DisplayName)
	}
	return n
}

// remember keeps msg for subscribers that reconnect, forgetting the oldest events beyond the bounds. Forgotten
// events are zeroed so that their comments can be collected.
func (m *Memory) remember(msg Message) {
	m.recent = append(m.recent, msg)
	m.recentBytes += eventBytes(msg.Event)
	m.last = msg.Position
	for len(m.recent) > m.history || (m.recentBytes > m.historyBytes && len(m.recent) > 1) {
		m.recentBytes -= eventBytes(m.recent[0].Event)
		m.floor = m.recent[0].Position
		m.recent[0] = Message{}
		m.recent = m.recent[1:]
	}
}

// Publish hands e to the subscribers of its article, dropping those that cannot take it now. A bus fed by
// the log ignores it: the event reaches it, and every other server, through the log.
func (m *Memory) Publish(e thread.Event) {
	if m.source != nil {
		return
	}
	m.mu.Lock()
	m.seq++
	m.publishLocked(Message{Position: Position{Epoch: m.epoch, Seq: m.seq}, Event: e})
	m.mu.Unlock()
}

// Deliver hands the log's events to the subscribers of their articles, in the log's order. Events at or
// before the last one delivered are ignored, so that a follower that reads a batch again does no harm.
func (m *Memory) Deliver(msgs ...Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range msgs {
		msg.Epoch = m.epoch
		if msg.Position.Compare(m.last) <= 0 {
			continue
		}
		m.publishLocked(msg)
	}
}

// Reset ends every subscription with ErrMissed and forgets the events remembered; the next event delivered
// follows position at. The log's follower calls it when it could not read some events (they were pruned
// while it was cut off from the database): subscribers then reload instead of silently missing them.
func (m *Memory) Reset(at Position) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, subs := range m.subs {
		for s := range subs {
			m.removeLocked(s, ErrMissed)
		}
	}
	clear(m.recent)
	m.recent, m.recentBytes = m.recent[:0], 0
	at.Epoch = m.epoch
	m.floor, m.last = at, at
}

func (m *Memory) publishLocked(msg Message) {
	m.remember(msg)
	var slow []*Subscription
	for s := range m.subs[msg.Event.ArticleID()] {
		if msg.Position.Compare(s.after) <= 0 {
			continue // caught up on it from the log already
		}
		select {
		case s.ch <- msg:
		default:
			slow = append(slow, s)
		}
	}
	for _, s := range slow {
		m.removeLocked(s, ErrSlowConsumer)
		m.dropped.Add(1)
	}
}

// Subscribe starts a subscription to an article's events, after the event at position after.
func (m *Memory) Subscribe(articleID int64, after Position) *Subscription {
	ch := make(chan Message, m.buffer)
	s := &Subscription{C: ch, ch: ch, done: make(chan struct{}), article: articleID, bus: m, after: after}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case after == Position{}:
	case after.Epoch != m.epoch || (m.source != nil && after.XID == 0):
		m.endLocked(s, ErrMissed) // a position from before a restart, or from another bus
		return s
	case after.Compare(m.floor) >= 0 && after.Compare(m.last) <= 0 && m.replayLocked(s, after):
	case m.source == nil:
		m.endLocked(s, ErrMissed) // forgotten, from the future, or more than the buffer holds
		return s
	default: // older than what the bus remembers, or newer than what it has: ask the log
		ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
		s.catching, s.cancel = true, cancel
		go m.catchUp(ctx, s, after)
		return s
	}
	m.registerLocked(s)
	return s
}

func (m *Memory) registerLocked(s *Subscription) {
	if m.subs[s.article] == nil {
		m.subs[s.article] = map[*Subscription]struct{}{}
	}
	m.subs[s.article][s] = struct{}{}
}

// endLocked ends a subscription that was never registered.
func (m *Memory) endLocked(s *Subscription, err error) {
	s.closed, s.err = true, err
	close(s.ch)
	close(s.done)
}

// replayLocked sends s the remembered events of its article after position after, if they fit in its buffer.
func (m *Memory) replayLocked(s *Subscription, after Position) bool {
	missed := m.sinceLocked(after, s.article)
	if len(missed) > cap(s.ch)-len(s.ch) {
		return false
	}
	for _, msg := range missed {
		s.ch <- msg
	}
	return true
}

// sinceLocked returns the remembered events of an article after position after (at or after floor), oldest
// first.
func (m *Memory) sinceLocked(after Position, articleID int64) []Message {
	i, _ := slices.BinarySearchFunc(m.recent, after, func(msg Message, p Position) int {
		return msg.Position.Compare(p)
	})
	if i < len(m.recent) && m.recent[i].Position == after {
		i++
	}
	var out []Message
	for _, msg := range m.recent[i:] {
		if msg.Event.ArticleID() == articleID {
			out = append(out, msg)
		}
	}
	return out
}

// catchUp sends s its article's events from the log after position pos, then joins it to the live events
// where the log read ends: the bus remembers every event after that point (or reads the log again), so there
// is neither gap nor repeat between what the log gave and what the follower delivers.
func (m *Memory) catchUp(ctx context.Context, s *Subscription, pos Position) {
	defer s.cancel()
	err := func() error {
		for mismatches := 0; mismatches < 10; {
			msgs, through, err := m.read(ctx, pos, s.article)
			if err != nil {
				return err
			}
			if !s.sendAll(ctx, msgs) {
				return ErrSlowConsumer
			}
			if n := len(msgs); n > 0 && msgs[n-1].Position.Compare(pos) > 0 {
				pos = msgs[n-1].Position
			}
			if through.Compare(pos) > 0 {
				pos = through
			}
			if len(msgs) == catchUpBatch {
				continue // more to read
			}
			m.mu.Lock()
			if s.closed {
				m.mu.Unlock()
				return nil
			}
			if m.floor.Compare(pos) > 0 {
				// The bus forgot events after pos that the log had not yet shown: read the log again.
				m.mu.Unlock()
				mismatches++
				select {
				case <-time.After(time.Duration(mismatches) * 10 * time.Millisecond):
				case <-ctx.Done():
				}
				continue
			}
			rest := m.sinceLocked(pos, s.article)
			if len(rest) <= cap(s.ch)-len(s.ch) {
				for _, msg := range rest {
					s.ch <- msg
				}
				if m.last.Compare(pos) > 0 {
					pos = m.last
				}
				s.after, s.catching = pos, false
				m.registerLocked(s)
				m.mu.Unlock()
				return nil
			}
			if m.last.Compare(pos) > 0 {
				pos = m.last
			}
			m.mu.Unlock()
			if !s.sendAll(ctx, rest) {
				return ErrSlowConsumer
			}
		}
		return ErrMissed
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !s.catching {
		return // joined the live events
	}
	s.catching = false
	if s.closed {
		close(s.ch) // Close or Reset left it to us
		return
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = ErrSlowConsumer
	}
	if err == nil {
		err = ErrMissed
	}
	m.removeLocked(s, err)
}

// read reads the log, with at most catchUpReads reads at once.
func (m *Memory) read(ctx context.Context, after Position, articleID int64) ([]Message, Position, error) {
	select {
	case m.reads <- struct{}{}:
	case <-ctx.Done():
		return nil, Position{}, ctx.Err()
	}
	defer func() { <-m.reads }()
	msgs, through, err := m.source.Read(ctx, after, articleID, catchUpBatch)
	for i := range msgs {
		msgs[i].Epoch = m.epoch
	}
	return msgs, through, err
}

// sendAll sends msgs to a subscription catching up, waiting for its reader; false when it ended or the
// catch-up took too long.
func (s *Subscription) sendAll(ctx context.Context, msgs []Message) bool {
	for _, msg := range msgs {
		select {
		case s.ch <- msg:
		case <-s.done:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (m *Memory) remove(s *Subscription, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(s, err)
}

// removeLocked ends s with err, once. A subscription catching up is closed by its catch-up, which owns ch.
func (m *Memory) removeLocked(s *Subscription, err error) {
	if s.closed {
		return
	}
	s.closed = true
	if subs := m.subs[s.article]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(m.subs, s.article)
		}
	}
	s.err = err
	if s.cancel != nil {
		s.cancel()
	}
	if !s.catching {
		close(s.ch)
	}
	close(s.done)
}

// Stats reports the subscriptions open now and how many were dropped for falling behind.
func (m *Memory) Stats() (open int, dropped int64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, subs := range m.subs {
		open += len(subs)
	}
	return open, m.dropped.Load()
}
