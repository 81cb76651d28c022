package multiserver

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
)

// TestKilledServerLosesNothing kills server A with SIGKILL while writers post to A and B: every comment either
// server acknowledged is in the database, B answers every request throughout, and A's subscribers, reconnecting
// to B with the cursor of the last event they received, receive every later event exactly once, without RESYNC.
func TestKilledServerLosesNothing(t *testing.T) {
	a, b := startPair(t, pgtest.URL(t), "--rate-limit=false")
	article := a.sampleArticle(t)

	const onA = 3
	var subsA []*subscriber
	for range onA {
		sub, err := a.subscribe(article, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sub.close)
		subsA = append(subsA, sub)
	}
	a.waitSubscribers(t, onA)
	subB, err := b.subscribe(article, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(subB.close)
	b.waitSubscribers(t, 1)

	// B is read throughout, anonymously (its cache) and as a reader (its database).
	reader := b.mustCreateReader(t, "Reader on B")
	probeStop := make(chan struct{})
	var probeErrs []error
	var probes int
	var probeWG sync.WaitGroup
	probeWG.Add(1)
	go func() {
		defer probeWG.Done()
		for {
			select {
			case <-probeStop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			for _, token := range []string{"", reader} {
				probes++
				if _, err := b.do(token, newestQuery, sampleVars); err != nil {
					probeErrs = append(probeErrs, err)
				}
			}
			if status := b.ready(); status != 200 {
				probeErrs = append(probeErrs, fmt.Errorf("/readyz answered %d", status))
			}
		}
	}()

	w := startWriters(t, article, 4, a, b)
	eventually(t, 10*time.Second, "the subscribers on A receive a first event", func() (bool, string) {
		for _, sub := range subsA {
			if sub.last() == "" {
				return false, "a subscriber on A without events"
			}
		}
		return w.acked() >= 200, fmt.Sprintf("%d acknowledged", w.acked())
	})
	killed := time.Now() // a write that fails from now on may have met the kill
	a.kill()
	time.Sleep(time.Second) // B alone, under writers still trying A
	writes := w.halt()
	close(probeStop)
	probeWG.Wait()

	var ackedA, ackedB, failedB, failedA int
	for _, x := range writes {
		switch {
		case x.err == nil && x.server == "A":
			ackedA++
		case x.err == nil:
			ackedB++
		case x.server == "B":
			failedB++
			if failedB <= 5 {
				t.Errorf("B failed a write: %v", x.err)
			}
		default:
			failedA++
			if x.at.Before(killed) {
				t.Errorf("A failed a write before it was killed: %v", x.err)
			}
		}
	}
	t.Logf("acknowledged: %d by A, %d by B; %d writes to A failed after the kill; %d reads of B and %d of its /readyz, %d failed", ackedA, ackedB, failedA, probes, probes/2, len(probeErrs))
	for _, err := range probeErrs[:min(len(probeErrs), 5)] {
		t.Errorf("B failed: %v", err)
	}
	checkAllStored(t, b, writes)

	// A's subscribers lost their connection with A; each reconnects to B after its last cursor.
	eventually(t, 5*time.Second, "A's subscribers see their connection end", func() (bool, string) {
		for _, sub := range subsA {
			if _, ended := sub.received(); ended == nil {
				return false, "a subscription to A still open"
			}
		}
		return true, ""
	})
	for i, sub := range subsA {
		again, err := b.subscribe(article, sub.last())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(again.close)
		checkCaughtUp(t, fmt.Sprintf("subscriber %d of A, then of B", i+1), b, writes, false, sub, again)
	}
	checkCaughtUp(t, "the subscriber of B", b, writes, false, subB)
}
