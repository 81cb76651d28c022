package live

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeLog is a Source over events held in memory: event i is at position (100+i, i), of article i%2.
type fakeLog struct {
	mu     sync.Mutex
	upTo   int64          // the log holds events 1..upTo
	pruned int64          // and forgot those up to pruned
	onRead func(read int) // called after each read, with its number, to move things on meanwhile
	block  chan struct{}  // when set, reads wait for it
	reads  int
}

func logPos(i int64) Position { return Position{Epoch: LogEpoch, XID: uint64(100 + i), Seq: uint64(i)} }

func logMsg(i int64) Message { return Message{Position: logPos(i), Event: event(i%2, i)} }

func (l *fakeLog) Read(ctx context.Context, after Position, articleID int64, limit int) ([]Message, Position, error) {
	if l.block != nil {
		select {
		case <-l.block:
		case <-ctx.Done():
			return nil, Position{}, ctx.Err()
		}
	}
	l.mu.Lock()
	if int64(after.Seq) < l.pruned {
		l.mu.Unlock()
		return nil, Position{}, ErrMissed
	}
	var out []Message
	through := logPos(l.upTo)
	for i := int64(after.Seq) + 1; i <= l.upTo; i++ {
		if i%2 == articleID {
			out = append(out, logMsg(i))
			if len(out) == limit {
				through = logPos(i)
				break
			}
		}
	}
	l.reads++
	n, onRead := l.reads, l.onRead
	l.mu.Unlock()
	if onRead != nil {
		onRead(n)
	}
	return out, through, nil
}

func deliver(m *Memory, from, to int64) {
	for i := from; i <= to; i++ {
		m.Deliver(logMsg(i))
	}
}

// receiveAll reads a subscription until nothing comes for a moment.
func receiveAll(s *Subscription) (ids []int64, open bool) {
	for {
		select {
		case msg, ok := <-s.C:
			if !ok {
				return ids, false
			}
			ids = append(ids, msg.Event.Comment.ID)
		case <-time.After(100 * time.Millisecond):
			return ids, true
		}
	}
}

// TestALoggedBusCatchesUpFromTheLogWithNeitherGapNorRepeat: a subscriber whose cursor is older than the bus
// remembers (or newer than it has) catches up from the log and then receives the live events, each once,
// whether the log read went further than the bus had delivered, or not as far, or not as far as the bus
// remembers (then it reads again).
func TestALoggedBusCatchesUpFromTheLogWithNeitherGapNorRepeat(t *testing.T) {
	cases := []struct {
		name      string
		logUpTo   int64 // the log's events when the subscriber comes
		delivered int64 // the bus's, which remembers the last 2
		after     int64
		grow      func(l *fakeLog, m *Memory, read int) // what happens after a read
		then      int64                                 // events delivered after the catch-up, up to
		want      []int64
	}{
		{name: "the log is ahead of the bus", logUpTo: 10, delivered: 6, after: 2, then: 12,
			want: []int64{4, 6, 8, 10, 12}},
		{name: "the bus is ahead of the log", logUpTo: 8, delivered: 10, after: 1, then: 12,
			want: []int64{2, 4, 6, 8, 10, 12}},
		{name: "the bus delivers during the read", logUpTo: 8, delivered: 8, after: 1, then: 14,
			grow: func(l *fakeLog, m *Memory, read int) {
				if read == 1 { // the follower reads on, and delivers what the bus then forgets in part
					l.mu.Lock()
					l.upTo = 11
					l.mu.Unlock()
					deliver(m, 9, 11)
				}
			},
			want: []int64{2, 4, 6, 8, 10, 12, 14}},
		{name: "the bus forgot what the log had not yet shown", logUpTo: 6, delivered: 20, after: 1, then: 22,
			grow: func(l *fakeLog, m *Memory, read int) {
				l.mu.Lock()
				l.upTo = min(l.upTo+6, 20)
				l.mu.Unlock()
			},
			want: []int64{2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22}},
		{name: "the cursor is ahead of the bus", logUpTo: 9, delivered: 5, after: 8, then: 12,
			want: []int64{10, 12}},
		{name: "the cursor is in the bus's memory", logUpTo: 10, delivered: 10, after: 8, then: 12,
			want: []int64{10, 12}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &fakeLog{upTo: c.logUpTo}
			m := NewLogged(10, 2, l, Position{})
			deliver(m, 1, c.delivered)
			if c.grow != nil {
				l.onRead = func(read int) { c.grow(l, m, read) }
			}
			s := m.Subscribe(0, logPos(c.after))
			got, _ := receiveAll(s) // caught up
			deliver(m, c.delivered+1, c.then)
			more, open := receiveAll(s)
			if got = append(got, more...); !slices.Equal(got, c.want) || !open {
				t.Errorf("received %v (open %v), want %v", got, open, c.want)
			}
			s.Close()
		})
	}
}

// TestALoggedBusEndsWhatItCannotCatchUp: a pruned cursor, a cursor of an in-memory bus, a reset (events
// were lost) all end subscriptions with ErrMissed; Publish does nothing (events come from the log); a
// subscription closed while it reads the log ends quietly.
func TestALoggedBusEndsWhatItCannotCatchUp(t *testing.T) {
	l := &fakeLog{upTo: 10, pruned: 5}
	m := NewLogged(10, 2, l, Position{})
	deliver(m, 1, 10)
	for name, after := range map[string]Position{"pruned": logPos(3), "of an in-memory bus": {Epoch: 12345, Seq: 3}} {
		s := m.Subscribe(0, after)
		if _, open := receiveAll(s); open || !errors.Is(s.Err(), ErrMissed) {
			t.Errorf("%s: open %v, err %v", name, open, s.Err())
		}
	}
	m.Publish(event(0, 99))
	live := m.Subscribe(0, Position{})
	m.Reset(logPos(20))
	if ids, open := receiveAll(live); open || len(ids) != 0 || !errors.Is(live.Err(), ErrMissed) {
		t.Errorf("after a reset: %v, open %v, err %v", ids, open, live.Err())
	}
	l.block = make(chan struct{})
	s := m.Subscribe(0, logPos(6))
	s.Close()
	if _, open := receiveAll(s); open || s.Err() != nil {
		t.Errorf("closed while catching up: open %v, err %v", open, s.Err())
	}
	if open, _ := m.Stats(); open != 0 {
		t.Errorf("%d subscriptions open", open)
	}
}
