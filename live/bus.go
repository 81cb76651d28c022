// Package live carries committed changes to an article's comments to the subscribers of that article. Bus is
// the small interface the server needs; Memory is the bus of a single server. A bus shared by several servers
// (PostgreSQL LISTEN/NOTIFY, say) would implement the same interface.
package live

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"

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

// Position is where an event stands among all of a bus's events: the bus's epoch, which changes when it
// restarts (and forgets), and the event's sequence number in it.
type Position struct {
	Epoch, Seq uint64
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
}

// Done is closed when the subscription ends, as C is; it lets a forwarder blocked on its own consumer notice.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended: nil when its owner closed it.
func (s *Subscription) Err() error { return s.err }

// Close ends the subscription.
func (s *Subscription) Close() { s.bus.remove(s, nil) }

// Memory is an in-process bus. Its zero value is not usable; call NewMemory.
type Memory struct {
	buffer int
	epoch  uint64

	// history and historyBytes bound the events remembered for subscribers that reconnect, in number and in
	// bytes: a comment may hold 10,000 characters twice over (source and HTML), so a bound in number alone
	// would let a few thousand long comments hold hundreds of megabytes.
	history, historyBytes int

	mu          sync.RWMutex
	subs        map[int64]map[*Subscription]struct{}
	seq         uint64
	recent      []Message // the last events, oldest first, with consecutive positions ending at seq
	recentBytes int       // eventBytes of the events in recent
	dropped     atomic.Int64
}

// DefaultHistoryBytes bounds the bytes of the events a Memory bus remembers.
const DefaultHistoryBytes = 16 << 20

// NewMemory returns a bus that buffers up to buffer events per subscriber and remembers the last history
// events (and at most DefaultHistoryBytes of them), for subscribers that reconnect.
func NewMemory(buffer, history int) *Memory {
	return &Memory{buffer: max(buffer, 1), epoch: rand.Uint64() | 1, subs: map[int64]map[*Subscription]struct{}{},
		history: max(history, 1), historyBytes: DefaultHistoryBytes}
}

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
	for len(m.recent) > m.history || (m.recentBytes > m.historyBytes && len(m.recent) > 1) {
		m.recentBytes -= eventBytes(m.recent[0].Event)
		m.recent[0] = Message{}
		m.recent = m.recent[1:]
	}
}

// Publish hands e to the subscribers of its article, dropping those that cannot take it now.
func (m *Memory) Publish(e thread.Event) {
	m.mu.Lock()
	m.seq++
	msg := Message{Position: Position{Epoch: m.epoch, Seq: m.seq}, Event: e}
	m.remember(msg)
	var slow []*Subscription
	for s := range m.subs[e.ArticleID()] {
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
	m.mu.Unlock()
}

// Subscribe starts a subscription to an article's events, after the event at position after.
func (m *Memory) Subscribe(articleID int64, after Position) *Subscription {
	ch := make(chan Message, m.buffer)
	s := &Subscription{C: ch, ch: ch, done: make(chan struct{}), article: articleID, bus: m}
	m.mu.Lock()
	defer m.mu.Unlock()
	if after != (Position{}) && (after.Epoch != m.epoch || after.Seq > m.seq) {
		s.err = ErrMissed // a position from before a restart, or from another bus
		close(ch)
		close(s.done)
		return s
	}
	if after.Seq > 0 && after.Seq < m.seq {
		missed := m.since(after.Seq)
		if missed == nil {
			s.err = ErrMissed
			close(ch)
			close(s.done)
			return s
		}
		for _, msg := range missed {
			if msg.Event.ArticleID() != articleID {
				continue
			}
			select {
			case ch <- msg:
			default: // more to catch up on than the buffer holds
				s.err = ErrMissed
				close(ch)
				close(s.done)
				return s
			}
		}
	}
	if m.subs[articleID] == nil {
		m.subs[articleID] = map[*Subscription]struct{}{}
	}
	m.subs[articleID][s] = struct{}{}
	return s
}

// since returns the remembered events after sequence number after, oldest first, or nil when some of them
// are forgotten.
func (m *Memory) since(after uint64) []Message {
	oldest := m.seq - uint64(len(m.recent)) + 1
	if after+1 < oldest {
		return nil
	}
	out := make([]Message, 0, m.seq-after)
	for _, msg := range m.recent {
		if msg.Position.Seq > after {
			out = append(out, msg)
		}
	}
	return out
}

func (m *Memory) remove(s *Subscription, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(s, err)
}

// removeLocked ends s with err, once.
func (m *Memory) removeLocked(s *Subscription, err error) {
	subs := m.subs[s.article]
	if _, ok := subs[s]; !ok {
		return
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(m.subs, s.article)
	}
	s.err = err
	close(s.ch)
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
