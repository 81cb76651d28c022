package multiserver

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// write is one addComment a writer sent: the comment's ID if the server acknowledged it, else the error.
type write struct {
	server string
	at     time.Time // when the answer came
	id     string
	err    error
}

// writers post comments, each as a reader of its own on one server, until halted, and keep every answer.
type writers struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	writes []write
}

// startWriters starts perServer writers on each server, posting to the article as fast as the servers answer.
func startWriters(t *testing.T, article string, perServer int, servers ...*server) *writers {
	t.Helper()
	w := &writers{stop: make(chan struct{})}
	for _, s := range servers {
		for i := range perServer {
			token := s.mustCreateReader(t, fmt.Sprintf("Writer %d on %s", i, s.name))
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				for n := 0; ; n++ {
					select {
					case <-w.stop:
						return
					default:
					}
					id, _, _, err := s.addComment(token, article, fmt.Sprintf("Comment %d by writer %d on %s.", n, i, s.name))
					w.mu.Lock()
					w.writes = append(w.writes, write{server: s.name, at: time.Now(), id: id, err: err})
					w.mu.Unlock()
					if err != nil {
						time.Sleep(20 * time.Millisecond) // a server that is down refuses at once
					}
				}
			}()
		}
	}
	return w
}

// halt stops the writers and returns every write, in the order the answers came.
func (w *writers) halt() []write {
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

// acked returns how many writes the writers have had acknowledged so far.
func (w *writers) acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, x := range w.writes {
		if x.err == nil {
			n++
		}
	}
	return n
}

// acknowledged returns the IDs of the acknowledged comments.
func acknowledged(writes []write) []string {
	var ids []string
	for _, x := range writes {
		if x.err == nil {
			ids = append(ids, x.id)
		}
	}
	return ids
}

// checkAllStored fails the test unless every acknowledged comment is in the database, read through s.
func checkAllStored(t *testing.T, s *server, writes []write) {
	t.Helper()
	ids := acknowledged(writes)
	found := s.existing(t, ids)
	lost := 0
	for _, id := range ids {
		if !found[id] {
			lost++
			if lost <= 5 {
				t.Errorf("the acknowledged comment %s is not in the database", id)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged comments lost", lost, len(ids))
	}
}

// checkCaughtUp waits until the subscribers' events, taken together, hold an ADDED event for every acknowledged
// comment, then fails the test if any came twice, or if one came that is not in the database. A RESYNC is
// allowed only when allowResync (and then the events after it are the reloaded subscriber's business).
func checkCaughtUp(t *testing.T, who string, s *server, writes []write, allowResync bool, subs ...*subscriber) (resynced bool) {
	t.Helper()
	ids := acknowledged(writes)
	union := func() ([]event, error) {
		var all []event
		var ended error // set when every subscription ended: the last one's reason
		for i, sub := range subs {
			events, err := sub.received()
			all = append(all, events...)
			if err == nil || (i > 0 && ended == nil) {
				ended = nil
			} else {
				ended = err
			}
		}
		return all, ended
	}
	eventually(t, 15*time.Second, who+" receive every acknowledged comment", func() (bool, string) {
		events, ended := union()
		counts, resync := added(events)
		if resync {
			return true, "RESYNC"
		}
		missing := 0
		for _, id := range ids {
			if counts[id] == 0 {
				missing++
			}
		}
		if missing > 0 && ended != nil {
			t.Fatalf("%s: the subscription ended (%v) after %d events, %d acknowledged comments not received", who, ended, len(events), missing)
		}
		return missing == 0, fmt.Sprintf("%d of %d acknowledged comments not received", missing, len(ids))
	})
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show
	events, _ := union()
	counts, resync := added(events)
	if resync {
		if !allowResync {
			t.Errorf("%s received RESYNC: a cursor in the durable log should have caught up", who)
		}
		t.Logf("%s received RESYNC after %d events", who, len(events))
		return true
	}
	var extra []string
	for id, n := range counts {
		if n > 1 {
			t.Errorf("%s received comment %s %d times", who, id, n)
		}
		extra = append(extra, id)
	}
	found := s.existing(t, extra)
	for _, id := range extra {
		if !found[id] {
			t.Errorf("%s received comment %s, which is not in the database", who, id)
		}
	}
	resumed := 0
	for _, sub := range subs {
		resumed += len(sub.resumes())
	}
	t.Logf("%s received %d ADDED events for %d acknowledged comments (more: committed, but the answer was lost); it was closed for falling behind, and resumed from its cursor, %d times",
		who, len(counts), len(ids), resumed)
	return false
}
