package live

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

func event(article, comment int64) thread.Event {
	return thread.Event{Kind: thread.EventLiked, Comment: &thread.Comment{ID: comment, ArticleID: article}}
}

// drain reads what a subscription has now.
func drain(s *Subscription) (ids []int64, open bool) {
	for {
		select {
		case msg, ok := <-s.C:
			if !ok {
				return ids, false
			}
			ids = append(ids, msg.Event.Comment.ID)
		default:
			return ids, true
		}
	}
}

func TestSubscribersGetTheirArticlesEventsInOrder(t *testing.T) {
	m := NewMemory(10, 100)
	a, b := m.Subscribe(1, Position{}), m.Subscribe(2, Position{})
	for i := int64(1); i <= 5; i++ {
		m.Publish(event(1, i))
		m.Publish(event(2, 100+i))
	}
	if ids, _ := drain(a); len(ids) != 5 || ids[0] != 1 || ids[4] != 5 {
		t.Errorf("article 1's subscriber got %v", ids)
	}
	if ids, _ := drain(b); len(ids) != 5 || ids[0] != 101 {
		t.Errorf("article 2's subscriber got %v", ids)
	}
	a.Close()
	if _, open := drain(a); open || a.Err() != nil {
		t.Errorf("a closed subscription: open %v, err %v", open, a.Err())
	}
}

// TestASlowSubscriberIsDroppedWithoutDelayingOthers: a subscriber that never reads is dropped with
// ErrSlowConsumer once its buffer fills; publishing never waits, and the others get every event.
func TestASlowSubscriberIsDroppedWithoutDelayingOthers(t *testing.T) {
	m := NewMemory(4, 100)
	stalled, reader := m.Subscribe(1, Position{}), m.Subscribe(1, Position{})
	got := make(chan []int64)
	go func() {
		var ids []int64
		for msg := range reader.C {
			ids = append(ids, msg.Event.Comment.ID)
			if len(ids) == 1000 {
				break
			}
		}
		got <- ids
	}()
	start := time.Now()
	for i := int64(1); i <= 1000; i++ {
		m.Publish(event(1, i))
		for len(reader.ch) == cap(reader.ch) { // a reader that keeps up, if only just
			time.Sleep(10 * time.Microsecond)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing took %v", d)
	}
	if ids := <-got; len(ids) != 1000 || ids[999] != 1000 {
		t.Errorf("the reader got %d events", len(ids))
	}
	if _, open := drain(stalled); open || !errors.Is(stalled.Err(), ErrSlowConsumer) {
		t.Errorf("the stalled subscriber: open %v, err %v", open, stalled.Err())
	}
	if open, dropped := m.Stats(); open != 1 || dropped != 1 {
		t.Errorf("stats: %d open, %d dropped", open, dropped)
	}
}

func TestCatchingUp(t *testing.T) {
	m := NewMemory(10, 8)
	for i := int64(1); i <= 6; i++ {
		m.Publish(event(1+i%2, i)) // articles 2,1,2,1,2,1
	}
	s := m.Subscribe(1, Position{Epoch: m.epoch, Seq: 2}) // after event 2: events 4 and 6 are article 1's
	if ids, _ := drain(s); len(ids) != 2 || ids[0] != 4 || ids[1] != 6 {
		t.Errorf("caught up on %v", ids)
	}
	for i := int64(7); i <= 20; i++ {
		m.Publish(event(1, i))
	}
	old := m.Subscribe(1, Position{Epoch: m.epoch, Seq: 3}) // the ring holds 13..20 only
	if _, open := drain(old); open || !errors.Is(old.Err(), ErrMissed) {
		t.Errorf("a subscription after a forgotten event: open %v, err %v", open, old.Err())
	}
	tooMany := NewMemory(2, 100)
	for i := int64(1); i <= 5; i++ {
		tooMany.Publish(event(1, i))
	}
	if s := tooMany.Subscribe(1, Position{Epoch: tooMany.epoch, Seq: 1}); !errors.Is(s.Err(), ErrMissed) {
		t.Errorf("more to catch up on than the buffer holds: err %v", s.Err())
	}
	if s := m.Subscribe(1, Position{Epoch: m.epoch + 2, Seq: 19}); !errors.Is(s.Err(), ErrMissed) {
		t.Errorf("a position from before a restart: err %v", s.Err())
	}
}

// TestHistoryIsBoundedInBytes: long comments are forgotten by their size, not only by their number, so that a
// few thousand comments of 10,000 characters cannot hold hundreds of megabytes; what is kept still lets a
// subscriber catch up.
func TestHistoryIsBoundedInBytes(t *testing.T) {
	m := NewMemory(64, 4096)
	long := strings.Repeat("ж", 10_000) // 20,000 bytes, as source and again as HTML
	for i := int64(1); i <= 4096; i++ {
		e := event(1, i)
		e.Comment.Body, e.Comment.BodyHTML = long, "<p>"+long+"</p>"
		m.Publish(e)
	}
	m.mu.RLock()
	kept, bytes := len(m.recent), m.recentBytes
	m.mu.RUnlock()
	if bytes > DefaultHistoryBytes || kept >= 4096 || kept == 0 {
		t.Fatalf("the history keeps %d events in %d bytes; the bound is %d bytes", kept, bytes, DefaultHistoryBytes)
	}
	if s := m.Subscribe(1, Position{Epoch: m.epoch, Seq: 4090}); s.Err() != nil {
		t.Errorf("catching up on the last events: %v", s.Err())
	} else if ids, _ := drain(s); len(ids) != 6 || ids[0] != 4091 {
		t.Errorf("caught up on %v", ids)
	}
	if s := m.Subscribe(1, Position{Epoch: m.epoch, Seq: 1}); !errors.Is(s.Err(), ErrMissed) {
		t.Errorf("catching up on a forgotten event: err %v", s.Err())
	}
}
