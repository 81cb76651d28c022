package thread

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimits bound how fast one reader, and one client address, may write. A zero rate means no limit. The
// counts live in memory only: Threadline stores no client address, and forgets an idle one within the hour.
type RateLimits struct {
	// CommentsPerMinute and CommentBurst bound the comments and replies one reader posts.
	CommentsPerMinute float64
	CommentBurst      int
	// WritesPerMinute and WriteBurst bound all that one client address writes: comments, edits, deletions,
	// likes and new readers.
	WritesPerMinute float64
	WriteBurst      int
	// ReadersPerHour and ReaderBurst bound the readers one client address creates.
	ReadersPerHour float64
	ReaderBurst    int
	// ArticlesPerHour and ArticleBurst bound the threads one client address tries to start by embedding
	// articles the site does not have yet.
	ArticlesPerHour float64
	ArticleBurst    int
}

// DefaultRateLimits are generous for people and tight for scripts: a reader may post 5 comments at once and one
// more every 10 seconds; an address may make 5 readers at once and 20 an hour, and start 10 threads at once and
// 30 an hour.
var DefaultRateLimits = RateLimits{
	CommentsPerMinute: 6, CommentBurst: 5,
	WritesPerMinute: 60, WriteBurst: 30,
	ReadersPerHour: 20, ReaderBurst: 5,
	ArticlesPerHour: 30, ArticleBurst: 10,
}

// SetRateLimits replaces the service's limits (none by default) and forgets every count.
func (s *Service) SetRateLimits(l RateLimits) {
	s.comments = newLimiter(l.CommentsPerMinute/60, l.CommentBurst)
	s.writes = newLimiter(l.WritesPerMinute/60, l.WriteBurst)
	s.newReaders = newLimiter(l.ReadersPerHour/3600, l.ReaderBurst)
	s.articles = newLimiter(l.ArticlesPerHour/3600, l.ArticleBurst)
}

type clientKey struct{}

// WithClient returns a context for a request from client, an address kept only as a key for rate limits.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

func clientOf(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// limiter keeps a token bucket per key. It is nil for no limit.
type limiter struct {
	perSecond rate.Limit
	burst     int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	return &limiter{perSecond: rate.Limit(perSecond), burst: max(burst, 1), buckets: map[string]*bucket{}}
}

// idleAfter is how long an unused bucket is kept: by then it is full again, so forgetting it changes nothing.
const idleAfter = time.Hour

// wait returns how long key must wait before it may act, or 0 if it may act now (and then counts the act).
func (l *limiter) wait(key string, now time.Time) time.Duration {
	if l == nil || key == "" {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleAfter {
		for k, b := range l.buckets {
			if now.Sub(b.used) > idleAfter {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.perSecond, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// check is one limiter applied to one key.
type check struct {
	l   *limiter
	key string
}

// byReader and byClient key a limiter by the reader, or by the request's client address.
func byReader(l *limiter, r *Reader) check           { return check{l, fmt.Sprint("reader:", r.ID)} }
func byClient(ctx context.Context, l *limiter) check { return check{l, clientOf(ctx)} }

// limit answers RATE_LIMITED, saying how long to wait, when any check refuses; what names what is limited.
func (s *Service) limit(what string, checks ...check) error {
	now := s.Now()
	for _, c := range checks {
		if d := c.l.wait(c.key, now); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			return &Error{
				Code:       CodeRateLimited,
				Message:    fmt.Sprintf("too many %s; try again in %d s", what, secs),
				RetryAfter: time.Duration(secs) * time.Second,
			}
		}
	}
	return nil
}

// Client returns the request's client address, as WithClient gave it; "" for none.
func Client(ctx context.Context) string { return clientOf(ctx) }
