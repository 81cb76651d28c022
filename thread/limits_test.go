package thread

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := newLimiter(1.0/10, 3) // one every 10 s, 3 at once
	for i := range 3 {
		if d := l.wait("a", t0); d != 0 {
			t.Fatalf("act %d of the burst waits %v", i+1, d)
		}
	}
	if d := l.wait("a", t0); d < 9*time.Second || d > 10*time.Second {
		t.Errorf("the 4th act waits %v, want about 10 s", d)
	}
	if d := l.wait("b", t0); d != 0 {
		t.Errorf("another key waits %v", d)
	}
	// A refusal costs nothing: after 10 s exactly one more act is allowed.
	if d := l.wait("a", t0.Add(10*time.Second)); d != 0 {
		t.Errorf("after 10 s the act waits %v", d)
	}
	if d := l.wait("a", t0.Add(10*time.Second)); d == 0 {
		t.Error("two acts allowed 10 s after the burst")
	}
	// Idle keys are forgotten.
	l.wait("c", t0)
	l.wait("d", t0.Add(2*time.Hour))
	if _, ok := l.buckets["c"]; ok {
		t.Error("a key idle for two hours is still kept")
	}
	var none *limiter
	if d := none.wait("a", t0); d != 0 || newLimiter(0, 5) != nil {
		t.Error("a zero rate limits")
	}
}
