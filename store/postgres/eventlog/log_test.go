package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/thread"
)

// articleOf is the article of a test comment: the log's tests need no comments table, so a comment's ID
// says its article.
func articleOf(commentID int64) int64 { return commentID%3 + 1 }

// testLoaders "load" a comment of every ID but those in gone.
func testLoaders(gone map[int64]bool) Loaders {
	return Loaders{Comments: func(_ context.Context, ids []int64) (map[int64]*thread.Comment, error) {
		out := map[int64]*thread.Comment{}
		for _, id := range ids {
			if !gone[id] {
				out[id] = &thread.Comment{ID: id, ArticleID: articleOf(id), Status: thread.StatusPublished, AuthorID: 7}
			}
		}
		return out, nil
	}, Readers: func(_ context.Context, ids []int64) (map[int64]*thread.Reader, error) {
		out := map[int64]*thread.Reader{}
		for _, id := range ids {
			out[id] = &thread.Reader{ID: id, DisplayName: "Ada"}
		}
		return out, nil
	}}
}

// newTestLog creates a database with the events table of migration 0002, and its reader_id of 0004 (without
// 0003: the trigger of 0002 notifies, standing for the store's Notifier).
func newTestLog(t testing.TB, gone map[int64]bool) (*pgxpool.Pool, *Log) {
	t.Helper()
	url := pgtest.URL(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, name := range []string{"0002_events.sql", "0004_events_reader.sql"} {
		migration, err := os.ReadFile("../migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, string(migration)); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
	}
	return pool, New(pool, testLoaders(gone))
}

func commentRecord(id int64) Record {
	return Record{Kind: thread.EventAdded, SiteID: 1, ArticleID: articleOf(id), CommentID: id}
}

// appendTx appends the records in a transaction of its own.
func appendTx(t testing.TB, pool *pgxpool.Pool, recs ...Record) {
	t.Helper()
	if err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error { return Append(context.Background(), tx, recs...) }); err != nil {
		t.Fatal(err)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestAppendCommitsWithTheWrite: the records of a write are in the log if and only if its transaction commits.
func TestAppendCommitsWithTheWrite(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	cases := []struct {
		name   string
		commit bool
		ids    []int64
	}{
		{"committed", true, []int64{1, 2, 3}},
		{"rolled back", false, []int64{4, 5}},
		{"committed, one", true, []int64{6}},
		{"committed, none", true, nil},
	}
	var want []int64
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var recs []Record
			for _, id := range c.ids {
				recs = append(recs, commentRecord(id))
			}
			if err := Append(ctx, tx, recs...); err != nil {
				t.Fatal(err)
			}
			if c.commit {
				err = tx.Commit(ctx)
				want = append(want, c.ids...)
			} else {
				err = tx.Rollback(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
			rows, _, err := log.Rows(ctx, live.Position{}, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range rows {
				got = append(got, r.CommentID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("the log holds %v, want %v", got, want)
			}
		})
	}
}

// TestAFollowerTellsOfReaderChanges: a reader's record reaches the follower's ReaderChanged (once per reader
// and batch), in the order of the log, and neither invalidates the cache nor publishes a live event; the
// records beside it go on as before.
func TestAFollowerTellsOfReaderChanges(t *testing.T) {
	pool, log := newTestLog(t, nil)
	head, err := log.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var readers, articles []int64
	c := follow(t, log, FollowerOptions{After: head, Poll: time.Hour,
		ReaderChanged: func(id int64) { mu.Lock(); readers = append(readers, id); mu.Unlock() },
		Changed:       func(id int64) { mu.Lock(); articles = append(articles, id); mu.Unlock() }})
	appendTx(t, pool, ReaderChanged(1, 7), ReaderChanged(1, 7), commentRecord(3))
	appendTx(t, pool, ReaderChanged(1, 8))
	msgs := c.waitFor(t, 1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got, changed := slices.Clone(readers), slices.Clone(articles)
		mu.Unlock()
		if len(got) >= 2 || time.Now().After(deadline) {
			slices.Sort(got)
			if !slices.Equal(got, []int64{7, 8}) {
				t.Errorf("ReaderChanged was told %v, want 7 then 8", got)
			}
			if slices.Contains(changed, 0) || !slices.Contains(changed, articleOf(3)) {
				t.Errorf("Changed was told %v, want the comment's article only", changed)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(msgs) != 1 || msgs[0].Event.Comment.ID != 3 {
		t.Errorf("published %v, want the comment's event only", msgs)
	}
	rows, _, err := log.Rows(context.Background(), head, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].Record != ReaderChanged(1, 7) || rows[3].Record != ReaderChanged(1, 8) {
		t.Errorf("the log holds %+v", rows)
	}
}

// collector gathers what a follower publishes.
type collector struct {
	mu   sync.Mutex
	msgs []live.Message
	gaps []live.Position
	lost atomic.Int32
	back atomic.Int32
	// how many events it had published each time it was reported back (under mu)
	publishedWhenBack []int
}

func (c *collector) publish(msgs []live.Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, msgs...)
	c.mu.Unlock()
}

func (c *collector) status(err error) {
	if err != nil {
		c.lost.Add(1)
	} else {
		c.mu.Lock()
		c.publishedWhenBack = append(c.publishedWhenBack, len(c.msgs))
		c.mu.Unlock()
		c.back.Add(1)
	}
}

func (c *collector) snapshot() []live.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// waitFor waits until the collector holds n events, or fails after a generous bound.
func (c *collector) waitFor(t *testing.T, n int) []live.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs := c.snapshot()
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// follow starts a follower of the log and stops it when the test ends.
func follow(t *testing.T, log *Log, opts FollowerOptions) *collector {
	c := &collector{}
	opts.Publish, opts.Status, opts.Log = c.publish, c.status, quiet
	opts.Gap = func(at live.Position) {
		c.mu.Lock()
		c.gaps = append(c.gaps, at)
		c.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		log.Follow(opts).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

// TestFollowersSeeEveryCommittedEventOnceInTheSameOrder: writers commit events in short transactions, in long
// ones that commit after later ones, in transactions that roll back, and in one that holds back the oldest
// xid without writing an event and then rolls back (no notification says it ended); three followers, one of
// them started late, each see every committed event exactly once, none of the rolled back, all in the same
// order, each writer's events in the order it wrote them. The followers' poll is an hour: notifications and
// the reads again while an open transaction holds events back are enough.
func TestFollowersSeeEveryCommittedEventOnceInTheSameOrder(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	opts := FollowerOptions{Poll: time.Hour, Batch: 50}
	followers := []*collector{follow(t, log, opts), follow(t, log, opts)}

	const writers, txPerWriter = 6, 40
	var committed sync.Map // comment ID → writer
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for i := range txPerWriter {
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					var ids []int64
					for range 1 + rand.IntN(3) {
						ids = append(ids, next.Add(1))
					}
					for _, id := range ids {
						if err := Append(ctx, tx, commentRecord(id)); err != nil {
							return err
						}
					}
					switch i % 5 {
					case 1: // long: later transactions commit first
						time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
					case 3:
						return errRollBack
					}
					for _, id := range ids {
						committed.Store(id, w)
					}
					return nil
				})
				if err != nil && !errors.Is(err, errRollBack) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() { // holds the oldest xid for a while, writes no event, and rolls back
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
				return err
			}
			time.Sleep(300 * time.Millisecond)
			return errRollBack
		})
		if !errors.Is(err, errRollBack) {
			errs <- err
		}
	})
	time.Sleep(150 * time.Millisecond)
	followers = append(followers, follow(t, log, opts)) // starts late, from the beginning
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	want := map[int64]int{}
	committed.Range(func(k, v any) bool {
		want[k.(int64)] = v.(int)
		return true
	})
	var first []live.Position
	for f, c := range followers {
		c.waitFor(t, len(want))
		time.Sleep(50 * time.Millisecond) // anything more would be a repeat or a rolled-back event
		msgs := c.snapshot()
		seen := map[int64]bool{}
		lastOf := map[int]int64{}
		var positions []live.Position
		for i, m := range msgs {
			id := m.Event.Comment.ID
			w, ok := want[id]
			switch {
			case !ok:
				t.Errorf("follower %d: event %d was rolled back", f, id)
			case seen[id]:
				t.Errorf("follower %d: event %d twice", f, id)
			case id < lastOf[w]:
				t.Errorf("follower %d: writer %d's event %d after its event %d", f, w, id, lastOf[w])
			}
			if i > 0 && m.Position.Compare(msgs[i-1].Position) <= 0 {
				t.Errorf("follower %d: position %v after %v", f, m.Position, msgs[i-1].Position)
			}
			seen[id], lastOf[w] = true, id
			positions = append(positions, m.Position)
		}
		if len(seen) != len(want) {
			t.Errorf("follower %d saw %d of the %d committed events", f, len(seen), len(want))
		}
		if f == 0 {
			first = positions
		} else if !slices.Equal(positions, first) {
			t.Errorf("follower %d saw the events in another order than follower 0", f)
		}
	}
	t.Logf("%d committed events in %d transactions", len(want), writers*txPerWriter)
}

var errRollBack = errors.New("roll back")

// TestReadCatchesUpOneArticle: a subscriber's catch-up reads its article's events after its cursor, page by
// page, and learns how far the log was read; after pruning, an older cursor gets live.ErrMissed, and so does
// a position no reader could have had yet.
func TestReadCatchesUpOneArticle(t *testing.T) {
	pool, log := newTestLog(t, map[int64]bool{6: true})
	ctx := context.Background()
	for id := int64(1); id <= 12; id++ {
		appendTx(t, pool, commentRecord(id))
	}
	appendTx(t, pool, Changed(1, articleOf(1)), Record{Kind: thread.EventDeleted, ArticleID: articleOf(6), CommentID: 6, ParentID: 3})
	all, head, err := log.Rows(ctx, live.Position{}, 0, 100)
	if err != nil || len(all) != 14 {
		t.Fatalf("%d rows, %v", len(all), err)
	}
	if head != all[13].Position {
		t.Fatalf("read through %v, want the last row %v", head, all[13].Position)
	}
	ids := func(msgs []live.Message) (out []int64) {
		for _, m := range msgs {
			out = append(out, m.Event.Comment.ID)
		}
		return out
	}
	cases := []struct {
		name    string
		after   live.Position
		article int64
		limit   int
		want    []int64
		through live.Position
	}{
		{"from the start", live.Position{}, articleOf(3), 100, []int64{3, 9, 12, 6}, head},
		{"a page", live.Position{}, articleOf(3), 1, []int64{3}, all[2].Position},
		{"after a cursor", all[2].Position, articleOf(3), 100, []int64{9, 12, 6}, head},
		{"another article", all[0].Position, articleOf(1), 100, []int64{4, 7, 10}, head},
		{"at the head", head, articleOf(1), 100, nil, head},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs, through, err := log.Read(ctx, c.after, c.article, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(msgs); !slices.Equal(got, c.want) {
				t.Errorf("read %v, want %v", got, c.want)
			}
			if through != c.through {
				t.Errorf("through %v, want %v", through, c.through)
			}
			for _, m := range msgs {
				if m.Event.Comment.ID == 6 && (m.Event.Kind != thread.EventDeleted || m.Event.Comment.ParentID != 3 || m.Event.Author != nil) {
					t.Errorf("the deleted comment whose row is gone: %+v", m.Event)
				}
				if m.Event.Comment.ID != 6 && (m.Event.Author == nil || m.Event.Author.DisplayName != "Ada") {
					t.Errorf("event %d has no author", m.Event.Comment.ID)
				}
			}
		})
	}

	if n, err := log.Prune(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("pruned %d young events, %v", n, err)
	}
	if _, err := pool.Exec(ctx, "UPDATE events SET at = now() - interval '2 hours' WHERE comment_id BETWEEN 1 AND 4"); err != nil {
		t.Fatal(err)
	}
	if n, err := log.Prune(ctx, time.Hour); err != nil || n != 4 {
		t.Fatalf("pruned %d of the 4 old events, %v", n, err)
	}
	for _, c := range []struct {
		name  string
		after live.Position
		err   error
	}{
		{"before the pruned", all[1].Position, live.ErrMissed},
		{"at the last pruned", all[3].Position, nil},
		{"after it", all[5].Position, nil},
		{"from the future", live.Position{XID: head.XID + 1_000_000, Seq: 1}, live.ErrMissed},
	} {
		if _, _, err := log.Read(ctx, c.after, 1, 10); !errors.Is(err, c.err) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
		}
	}
	if got, err := log.Head(ctx); err != nil || got != head {
		t.Errorf("head %v, %v; want %v", got, err, head)
	}
}

// TestAFollowerBehindThePrunedReportsAGap: a follower whose position was pruned before it read it says so
// (the server resets its bus and cache) and goes on with the events that follow.
func TestAFollowerBehindThePrunedReportsAGap(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	appendTx(t, pool, commentRecord(1), commentRecord(2))
	if n, err := log.Prune(ctx, -time.Hour); err != nil || n != 2 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	c := follow(t, log, FollowerOptions{})
	appendTx(t, pool, commentRecord(3))
	msgs := c.waitFor(t, 1)
	c.mu.Lock()
	gaps := slices.Clone(c.gaps)
	c.mu.Unlock()
	if len(msgs) != 1 || msgs[0].Event.Comment.ID != 3 || len(gaps) != 1 {
		t.Errorf("got %d events, %d gaps", len(msgs), len(gaps))
	}
}

// TestAFollowerReconnectsAndCatchesUp: the follower's connection is cut and the database refuses new ones
// while writes go on; the follower reports it lost, then back once connections are allowed again, and
// publishes every event committed meanwhile, once, before it reports itself back (a server trusts its
// response cache again then). It reports itself back first once it has read the log, at the start.
func TestAFollowerReconnectsAndCatchesUp(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	c := follow(t, log, FollowerOptions{Poll: time.Hour})
	appendTx(t, pool, commentRecord(1))
	c.waitFor(t, 1)
	for deadline := time.Now().Add(10 * time.Second); c.back.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // it reports itself back just after it published what it read
	}
	if c.back.Load() != 1 {
		t.Errorf("once it read the log, reported back %d times, want once", c.back.Load())
	}

	writer, err := pool.Acquire(ctx) // stays connected while new connections are refused
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Release()
	var db string
	if err := writer.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, os.Getenv(pgtest.Env))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	allow := func(yes bool) {
		if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %v", pgx.Identifier{db}.Sanitize(), yes)); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	defer allow(true)
	if _, err := writer.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'threadline event follower' AND datname = current_database()"); err != nil {
		t.Fatal(err)
	}
	for id := int64(2); id <= 20; id++ {
		if err := pgx.BeginFunc(ctx, writer, func(tx pgx.Tx) error { return Append(ctx, tx, commentRecord(id)) }); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); c.lost.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if c.lost.Load() != 1 || c.back.Load() != 1 {
		t.Fatalf("cut off: reported lost %d times, back %d times", c.lost.Load(), c.back.Load())
	}
	allow(true)
	c.waitFor(t, 20)
	time.Sleep(50 * time.Millisecond)
	msgs := c.snapshot()
	var ids []int64
	for _, m := range msgs {
		ids = append(ids, m.Event.Comment.ID)
	}
	if len(ids) != 20 || ids[0] != 1 || ids[19] != 20 {
		t.Errorf("published %v", ids)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.back.Load() != 2 || len(c.publishedWhenBack) != 2 || c.publishedWhenBack[1] != 20 {
		t.Errorf("reported back %d times, having published %v events each time; want twice, the second after all 20",
			c.back.Load(), c.publishedWhenBack)
	}
}

// TestEventsRestoredFromAnotherClusterAreForgotten: a dump restored into another cluster brings rows, and a
// pruned position, whose xids that cluster has not reached; the follower forgets them, reports a gap (its
// subscribers reload), and publishes the new events.
func TestEventsRestoredFromAnotherClusterAreForgotten(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	appendTx(t, pool, commentRecord(1))
	if _, err := pool.Exec(ctx, `INSERT INTO events (id, xid, kind, article_id, comment_id) OVERRIDING SYSTEM VALUE
		VALUES (1000, (pg_current_xact_id()::text::bigint + 1000000)::text::xid8, 'added', 1, 1000)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE event_log_pruned SET xid = (pg_current_xact_id()::text::bigint + 999999)::text::xid8, id = 999`); err != nil {
		t.Fatal(err)
	}
	head, err := log.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := follow(t, log, FollowerOptions{After: head})
	gaps := 0
	for deadline := time.Now().Add(10 * time.Second); gaps == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		gaps = len(c.gaps)
		c.mu.Unlock()
	}
	appendTx(t, pool, commentRecord(2)) // after the gap: events before it are what the subscribers reload
	msgs := c.waitFor(t, 1)
	if len(msgs) != 1 || msgs[0].Event.Comment.ID != 2 || gaps != 1 {
		t.Errorf("published %d events, %d gaps", len(msgs), gaps)
	}
	var future int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE comment_id = 1000").Scan(&future); err != nil || future != 0 {
		t.Errorf("%d rows from the future left, %v", future, err)
	}
}

// TestAFollowerKeepsItsConnectionBetweenPolls: waiting for a notification until the poll's timeout leaves the
// connection usable: the follower polls many times on one connection, and never reports it lost.
func TestAFollowerKeepsItsConnectionBetweenPolls(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	c := follow(t, log, FollowerOptions{Poll: 10 * time.Millisecond})
	pid := func() (pids []int32) {
		rows, err := pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = 'threadline event follower' AND datname = current_database()")
		if err != nil {
			t.Fatal(err)
		}
		pids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	appendTx(t, pool, commentRecord(1))
	c.waitFor(t, 1)
	before := pid()
	time.Sleep(300 * time.Millisecond)
	appendTx(t, pool, commentRecord(2))
	if msgs := c.waitFor(t, 2); len(msgs) != 2 {
		t.Fatalf("published %d events", len(msgs))
	}
	if after := pid(); len(before) != 1 || !slices.Equal(before, after) || c.lost.Load() != 0 {
		t.Errorf("follower connections %v, then %v; reported lost %d times", before, after, c.lost.Load())
	}
}

// TestPruneIsBoundedPerCall: one call removes at most DefaultPruneBatch rows, oldest first, and only those
// older than asked; the pruned position follows.
func TestPruneIsBoundedPerCall(t *testing.T) {
	pool, log := newTestLog(t, nil)
	ctx := context.Background()
	const old = DefaultPruneBatch + 2_000
	recs := make([]Record, old+10)
	for i := range recs {
		recs[i] = commentRecord(int64(i + 1))
	}
	appendTx(t, pool, recs...)
	if _, err := pool.Exec(ctx, "UPDATE events SET at = now() - interval '1 day' WHERE comment_id <= $1", old); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{DefaultPruneBatch, old - DefaultPruneBatch, 0} {
		if n, err := log.Prune(ctx, time.Hour); err != nil || n != want {
			t.Fatalf("call %d pruned %d, %v; want %d", i, n, err, want)
		}
	}
	rows, _, err := log.Rows(ctx, live.Position{}, 0, 100)
	if !errors.Is(err, live.ErrMissed) {
		t.Errorf("reading from the start after pruning: %v", err)
	}
	var first int64
	if err := pool.QueryRow(ctx, "SELECT min(comment_id) FROM events").Scan(&first); err != nil || first != old+1 || len(rows) != 0 {
		t.Errorf("the oldest event left is %d, %v", first, err)
	}
}
