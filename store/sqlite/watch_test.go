package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

// watchCount is a Watcher's calls, counted.
type watchCount struct {
	changes atomic.Int64
	errs    atomic.Int64
}

func (c *watchCount) watch(t *testing.T, db *DB, interval time.Duration) *Watcher {
	t.Helper()
	w, err := db.Watch(interval, func() { c.changes.Add(1) }, func(err error) {
		c.errs.Add(1)
		t.Logf("poll failed: %v", err)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// waitChange waits up to a second for the count of changes to pass from; it returns how long that took.
func (c *watchCount) waitChange(t *testing.T, from int64) time.Duration {
	t.Helper()
	start := time.Now()
	for c.changes.Load() == from {
		if time.Since(start) > time.Second {
			t.Fatal("no change reported within 1 s of another process's commit")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// openPair opens the same file twice: this process's store, and another "process" (its own connections, as
// `threadline import` or `threadline site` would have).
func openPair(t *testing.T) (self, other *DB, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "shared.db")
	var err error
	if self, err = Open(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { self.Close() })
	if other, err = Open(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return self, other, path
}

// ownWrites makes this process write as fast as it can from several goroutines, every kind of write the
// server makes, until stop is closed, and returns how many it made.
func ownWrites(t *testing.T, db *DB, a *thread.Article, stop <-chan struct{}, n *atomic.Int64) int64 {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := &thread.Reader{SiteID: a.SiteID, DisplayName: fmt.Sprint("w", g), CreatedAt: t0}
			if err := db.CreateReader(ctx, r, []byte(fmt.Sprint("token", g))); err != nil {
				t.Error(err)
				return
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := &thread.Comment{ArticleID: a.ID, AuthorID: r.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
				if err := db.AddComment(ctx, c); err != nil {
					t.Error(err)
					return
				}
				if _, err := db.Like(ctx, c.ID, r.ID); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					site := &thread.Site{Slug: fmt.Sprintf("own-%d-%d", g, i), Name: "Own", CreatedAt: t0}
					if err := db.CreateSite(ctx, site); err != nil {
						t.Error(err)
						return
					}
				}
				if i%200 == 0 && g == 0 { // the writer's own checkpoints, which rewrite the file and restart the log
					if _, err := db.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
						t.Error(err)
						return
					}
				}
				n.Add(3)
			}
		})
	}
	// Reads, and a backup, use the read pool: none of them is a change either.
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.TopLevelComments(ctx, a.ID, thread.PageRequest{First: 10, Order: thread.OrderNewest}); err != nil {
				t.Error(err)
				return
			}
			if i == 0 {
				if err := db.Backup(ctx, filepath.Join(t.TempDir(), "copy.db")); err != nil {
					t.Error(err)
				}
			}
		}
	})
	<-stop
	wg.Wait()
	return n.Load()
}

// TestWatchIgnoresOwnWrites: however fast this process writes, the watcher reports nothing, so that the
// response cache keeps its entries under load; yet a single commit of another process among them is seen.
func TestWatchIgnoresOwnWrites(t *testing.T) {
	self, other, _ := openPair(t)
	a := mustArticle(t, self)
	var c watchCount
	c.watch(t, self, 5*time.Millisecond) // a poll between almost every two writes

	stop := make(chan struct{})
	done := make(chan int64)
	var written atomic.Int64
	go func() { done <- ownWrites(t, self, a, stop, &written) }()
	// At least a second of writes, and at least 100 of them: a loaded machine (CI runs other packages at once)
	// writes slowly, and the point is many own writes between polls, not a rate.
	start := time.Now()
	for time.Since(start) < time.Second || written.Load() < 100 {
		if time.Since(start) > time.Minute {
			t.Fatalf("only %d own writes in a minute", written.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := c.changes.Load(); n != 0 {
		t.Errorf("own writes reported as %d outside changes", n)
	}

	// One commit by the other process, amid this one's writes.
	before := c.changes.Load()
	if err := other.CreateSite(context.Background(), &thread.Site{Slug: "theirs", Name: "Theirs", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	t.Logf("the other process's commit was reported after %v", c.waitChange(t, before))
	close(stop)
	writes := <-done
	t.Logf("%d own writes in %v", writes, time.Since(start).Round(time.Millisecond))
	if c.errs.Load() != 0 {
		t.Errorf("%d polls failed", c.errs.Load())
	}
}

// TestWatchSeesEveryOtherWriter: each way another process may change the file is reported within a second.
func TestWatchSeesEveryOtherWriter(t *testing.T) {
	self, other, path := openPair(t)
	a := mustArticle(t, self)
	ctx := context.Background()
	// A client that is not Threadline at all: the sqlite3 shell, a script.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })

	var c watchCount
	c.watch(t, self, DefaultWatchInterval)
	tests := []struct {
		name  string
		write func() error
	}{
		{"a comment", func() error {
			return other.AddComment(ctx, &thread.Comment{ArticleID: a.ID, Body: "x", BodyHTML: "<p>x</p>", Status: thread.StatusPublished, CreatedAt: t0})
		}},
		{"a site", func() error { return other.CreateSite(ctx, &thread.Site{Slug: "new", Name: "New", CreatedAt: t0}) }},
		{"an imported article", func() error {
			t := thread.ImportThread{SourceID: "imported", Key: "imported", Title: "I", CreatedAt: t0}
			_, err := other.ImportBatch(ctx, a.SiteID, "test", []thread.ImportThread{t}, nil)
			return err
		}},
		{"a plain SQL update", func() error {
			_, err := raw.ExecContext(ctx, "UPDATE articles SET title = 'changed' WHERE id = ?", a.ID)
			return err
		}},
		{"a plain SQL delete", func() error {
			_, err := raw.ExecContext(ctx, "DELETE FROM comments WHERE body = 'x'")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.changes.Load()
			if err := tt.write(); err != nil {
				t.Fatal(err)
			}
			t.Logf("reported after %v", c.waitChange(t, before))
		})
	}
	// And nothing more once the others are quiet, though a process opens the file to read it, as `threadline
	// export` and `backup` do.
	time.Sleep(3 * DefaultWatchInterval)
	quiet := c.changes.Load()
	reader, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	visit := thread.ExportVisitor{
		Article: func(*thread.Article) error { return nil },
		Comment: func(*thread.Comment, string) error { return nil },
		Action:  func(*thread.ModerationAction, string) error { return nil },
		Appeal:  func(*thread.Appeal) error { return nil },
	}
	if err := reader.ExportSite(ctx, a.SiteID, "", visit); err != nil {
		t.Fatal(err)
	}
	if err := reader.Backup(ctx, filepath.Join(t.TempDir(), "copy.db")); err != nil {
		t.Fatal(err)
	}
	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * DefaultWatchInterval)
	if n := c.changes.Load(); n != quiet {
		t.Errorf("%d changes reported while nobody wrote", n-quiet)
	}
}

// TestWatchReplacedWriter: if the pool replaces the writer connection, whose data_version then starts afresh,
// the watcher reports a change rather than risk missing one committed meanwhile.
func TestWatchReplacedWriter(t *testing.T) {
	self, other, _ := openPair(t)
	ctx := context.Background()
	w, err := self.Watch(time.Hour, nil, nil) // polls only when the test says
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	if changed, err := w.poll(ctx); err != nil || changed {
		t.Fatalf("poll with nothing written = %v, %v; want false", changed, err)
	}
	// Another process commits, and then the writer connection is closed and a new one opened before the poll.
	if err := other.CreateSite(ctx, &thread.Site{Slug: "meanwhile", Name: "M", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	self.write.SetMaxIdleConns(0) // closes the idle writer
	self.write.SetMaxIdleConns(1)
	if err := self.CreateSite(ctx, &thread.Site{Slug: "own", Name: "O", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if changed, err := w.poll(ctx); err != nil || !changed {
		t.Fatalf("poll after the writer was replaced = %v, %v; want true", changed, err)
	}
	if changed, err := w.poll(ctx); err != nil || changed {
		t.Fatalf("the next poll = %v, %v; want false", changed, err)
	}
}

// TestWatchStop: Stop ends the goroutine; no call comes after it.
func TestWatchStop(t *testing.T) {
	self, other, _ := openPair(t)
	var calls atomic.Int64
	w, err := self.Watch(time.Millisecond, func() { calls.Add(1) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	if err := other.CreateSite(context.Background(), &thread.Site{Slug: "after", Name: "A", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 0 {
		t.Errorf("%d calls after Stop", n)
	}
}

// BenchmarkWatchPoll measures one poll: how long it holds the writer, four times a second.
func BenchmarkWatchPoll(b *testing.B) {
	db := mustOpen(b)
	w, err := db.Watch(time.Hour, func() {}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	ctx := context.Background()
	for b.Loop() {
		if _, err := w.poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
