package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

// TestBackupUnderConcurrentWrites copies the database while writers keep committing comments: the copy opens,
// passes PRAGMA integrity_check, and holds every comment acknowledged before the copy began; writers were
// never refused.
func TestBackupUnderConcurrentWrites(t *testing.T) {
	db := mustOpen(t)
	a := mustArticle(t, db)
	ctx := context.Background()

	var acked sync.Map // comment ID → when it was acknowledged
	var stop atomic.Bool
	var writers sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for !stop.Load() {
				c := &thread.Comment{ArticleID: a.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: time.Now()}
				if err := db.AddComment(ctx, c); err != nil {
					errs <- err
					return
				}
				acked.Store(c.ID, time.Now())
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	writers.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a writer failed during the backup: %v", err)
	}

	copyDB, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var integrity string
	if err := copyDB.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	inCopy := map[int64]bool{}
	rows, err := copyDB.Query("SELECT id FROM comments")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		inCopy[id] = true
	}
	rows.Close()
	before, after := 0, 0
	acked.Range(func(k, v any) bool {
		switch {
		case v.(time.Time).Before(began) && !inCopy[k.(int64)]:
			t.Errorf("comment %d, acknowledged before the backup began, is not in it", k)
		case v.(time.Time).Before(began):
			before++
		default:
			after++
		}
		return true
	})
	if before == 0 || after == 0 {
		t.Errorf("the test wrote %d comments before the backup and %d during or after it: it needs both", before, after)
	}
	t.Logf("%d comments acknowledged before the backup, all in it; %d during or after it", before, after)
	if err := db.Backup(ctx, path); err == nil {
		t.Error("a backup overwrote an existing file")
	}
}

// TestBackupMakesItsFolder: a backup into a folder that does not exist makes it (0700) and writes the copy
// readable by its owner only (0600), since it holds signing secrets and token hashes; an existing file is never
// overwritten, and a failed backup leaves no file behind.
func TestBackupMakesItsFolder(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "backups", "nightly")
	path := filepath.Join(dir, "x.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatalf("backup into a missing folder: %v", err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, want)
		}
	}
	if err := db.Backup(ctx, path); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second backup to the same file: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	failed := filepath.Join(dir, "failed.db")
	if err := db.Backup(cancelled, failed); err == nil {
		t.Error("a cancelled backup succeeded")
	}
	if _, err := os.Stat(failed); !os.IsNotExist(err) {
		t.Errorf("a failed backup left %s behind (%v)", failed, err)
	}
}
