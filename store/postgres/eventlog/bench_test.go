package eventlog

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/live"
)

// BenchmarkFollowerRead: how fast a follower reads the log (events/s), from a log of 100,000 events, in
// batches of 1,000, loading nothing (the store's CommentsByID comes on top).
func BenchmarkFollowerRead(b *testing.B) {
	pool, log := newTestLog(b, nil)
	ctx := context.Background()
	const events = 100_000
	for i := 0; i < events; i += 10_000 {
		recs := make([]Record, 10_000)
		for j := range recs {
			recs[j] = commentRecord(int64(i + j + 1))
		}
		appendTx(b, pool, recs...)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		var n atomic.Int64
		done := make(chan struct{})
		ctx, cancel := context.WithCancel(ctx)
		go func() {
			defer close(done)
			log.Follow(FollowerOptions{Log: quiet, Keep: -1, Publish: func(msgs []live.Message) {
				if n.Add(int64(len(msgs))) == events {
					cancel()
				}
			}}).Run(ctx)
		}()
		<-done
		cancel()
	}
	b.ReportMetric(float64(events*b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkNotifyToDelivery: the time from a write's commit (acknowledged to the writer) to its event reaching
// a follower's Publish on another connection: one writer at a time, and 8 writing at once.
func BenchmarkNotifyToDelivery(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(map[int]string{1: "one writer", 8: "8 writers"}[writers], func(b *testing.B) {
			pool, log := newTestLog(b, nil)
			ctx, cancel := context.WithCancel(context.Background())
			var mu sync.Mutex
			committed, delivered := map[int64]time.Time{}, map[int64]time.Time{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				log.Follow(FollowerOptions{Log: quiet, Keep: -1, Publish: func(msgs []live.Message) {
					now := time.Now()
					mu.Lock()
					for _, m := range msgs {
						delivered[m.Event.Comment.ID] = now
					}
					mu.Unlock()
				}}).Run(ctx)
			}()
			time.Sleep(100 * time.Millisecond)
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			per := max(b.N/writers, 1)
			for range writers {
				wg.Go(func() {
					for range per {
						id := next.Add(1)
						if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return Append(ctx, tx, commentRecord(id)) }); err != nil {
							b.Error(err)
							return
						}
						now := time.Now()
						mu.Lock()
						committed[id] = now
						mu.Unlock()
						if writers == 1 {
							for { // one at a time: wait for it
								mu.Lock()
								_, ok := delivered[id]
								mu.Unlock()
								if ok {
									break
								}
								time.Sleep(50 * time.Microsecond)
							}
						}
					}
				})
			}
			wg.Wait()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				mu.Lock()
				n := len(delivered)
				mu.Unlock()
				if n == len(committed) {
					break
				}
			}
			b.StopTimer()
			cancel()
			<-done
			var lat []time.Duration
			for id, c := range committed {
				if d, ok := delivered[id]; ok {
					lat = append(lat, max(d.Sub(c), 0))
				}
			}
			if len(lat) != len(committed) {
				b.Fatalf("%d of %d events delivered", len(lat), len(committed))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
