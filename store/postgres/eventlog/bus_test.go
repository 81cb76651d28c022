package eventlog

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/live"
)

// followBus is what a Threadline server on PostgreSQL wires: a bus fed by its own follower of the log.
func followBus(t *testing.T, log *Log, history int) *live.Memory {
	head, err := log.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bus := live.NewLogged(64, history, log, head)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		log.Follow(FollowerOptions{After: head, Poll: time.Second, Log: quiet,
			Publish: func(msgs []live.Message) { bus.Deliver(msgs...) }, Gap: bus.Reset}).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return bus
}

// receive reads a subscription until it has n events or stop is closed and nothing more comes for a while.
func receive(s *live.Subscription, n int) []live.Message {
	var out []live.Message
	for len(out) < n {
		select {
		case m, ok := <-s.C:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-time.After(5 * time.Second):
			return out
		}
	}
	return out
}

// receiveAll reads a subscription until it has as many events as total says, once it says, or until nothing
// more comes for a while after that.
func receiveAll(s *live.Subscription, total <-chan int) []live.Message {
	var out []live.Message
	n := -1
	for n < 0 || len(out) < n {
		var quiet <-chan time.Time
		if n >= 0 {
			quiet = time.After(10 * time.Second)
		}
		select {
		case n = <-total:
		case m, ok := <-s.C:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-quiet:
			return out
		}
	}
	return out
}

// TestASubscriberMovesToAnotherServerAndCatchesUp: while writers commit events for three articles (some in
// long transactions), a subscriber on server A takes some events and leaves; it comes back to server B, whose
// memory holds only the last 4 events, with its cursor: B catches it up from the log and joins it to the live
// events with neither gap nor repeat: it receives exactly the log's events of its article after the cursor.
func TestASubscriberMovesToAnotherServerAndCatchesUp(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	a, b := followBus(t, log, 4), followBus(t, log, 4)

	const article = 2
	first := a.Subscribe(article, live.Position{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	var next int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					var recs []Record
					mu.Lock()
					for range 1 + rand.IntN(3) {
						next++
						recs = append(recs, commentRecord(next))
					}
					mu.Unlock()
					if err := Append(ctx, tx, recs...); err != nil {
						return err
					}
					if rand.IntN(10) == 0 {
						time.Sleep(30 * time.Millisecond)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	before := receive(first, 20)
	first.Close()
	if len(before) != 20 {
		t.Fatalf("server A gave %d events", len(before))
	}
	cursor := before[len(before)-1].Position
	time.Sleep(200 * time.Millisecond) // B's memory forgets the events after the cursor
	again := b.Subscribe(article, cursor)
	// It takes its events as they come, as a subscriber does (one that did not would fall behind its buffer),
	// until it has as many as the log holds once the writers are done.
	total, received := make(chan int, 1), make(chan []live.Message, 1)
	go func() { received <- receiveAll(again, total) }()
	time.Sleep(300 * time.Millisecond) // writes go on while it catches up
	close(stop)
	wg.Wait()

	want, _, err := log.Rows(ctx, cursor, article, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	total <- len(want)
	got := <-received
	if again.Err() != nil {
		t.Fatalf("the subscription on B ended: %v", again.Err())
	}
	var wantPos, gotPos []live.Position
	for _, r := range want {
		wantPos = append(wantPos, r.Position)
	}
	for _, m := range got {
		gotPos = append(gotPos, m.Position)
		if m.Event.Comment.ArticleID != article {
			t.Fatalf("an event of article %d", m.Event.Comment.ArticleID)
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d events after the cursor: the test proves little", len(want))
	}
	if !slices.Equal(gotPos, wantPos) {
		t.Errorf("B gave %d events after the cursor, the log holds %d (first difference at %d)", len(gotPos), len(wantPos), firstDifference(gotPos, wantPos))
	}
	select {
	case m := <-again.C:
		t.Errorf("an event more: %v", m.Position)
	case <-time.After(100 * time.Millisecond):
	}
	again.Close()
	t.Logf("caught up on %d events of %d written", len(want), next)
}

func firstDifference(a, b []live.Position) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
