package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// TestOwnerCreatesArticlesWhenEmbedsMayNot: a site set with --embed-creates-articles=false gets no article
// from a page's first embed, however well-formed; `threadline article create` makes it, and the page then shows
// its thread. Turned back on, a first embed creates again. The hourly bound is set and shown the same way.
func TestOwnerCreatesArticlesWhenEmbedsMayNot(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "threadline.db")
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--db", dbPath), &out, &errOut)
		return out.String(), err
	}
	out, err := cli("site", "create", "--slug", "blog", "--name", "Blog", "--origin", "https://blog.example", "--embed-creates-articles=false", "--embed-articles-per-hour", "7")
	if err != nil || !strings.Contains(out, "articles:        only threadline article create and imports create them") {
		t.Fatalf("site create: %v\n%s", err, out)
	}

	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := thread.NewService(db)
	// As serve does: the commits of other processes (this test's commands) reach the server's caches.
	watcher, err := db.Watch(10*time.Millisecond, svc.ExternalChange, func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	hs := httptest.NewServer(server.New(svc, server.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer hs.Close()
	page := func(key string) string {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/embed/thread?site=blog&article="+key+"&url=https://blog.example/"+key, nil)
		req.Header.Set("Referer", "https://blog.example/"+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if p := page("launch"); !strings.Contains(p, "could not be loaded") {
		t.Fatal("a first embed created an article on a site that turned that off")
	}
	out, err = cli("article", "create", "--site", "blog", "--key", "launch", "--title", "Launch\u202E day", "--url", "https://blog.example/launch")
	if err != nil || !strings.Contains(out, "title:    Launch day\n") {
		t.Fatalf("article create: %v\n%s", err, out)
	}
	shown := func(key string) bool {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if strings.Contains(page(key), `<h1 class="tl-count">0 comments</h1>`) {
				return true
			}
		}
		return false
	}
	if !shown("launch") {
		t.Error("the page of the article the owner created shows no thread")
	}
	for _, bad := range [][]string{
		{"article", "create", "--site", "blog", "--key", "launch"},
		{"article", "create", "--site", "blog", "--key", "js", "--url", "javascript:alert(1)"},
		{"article", "create", "--site", "nowhere", "--key", "x"},
		{"article", "create", "--site", "blog"},
		{"article", "delete"},
		{"site", "update", "--slug", "blog", "--embed-articles-per-hour", "0"},
		{"site", "update", "--slug", "blog", "--embed-articles-per-hour", "100001"},
	} {
		if out, err := cli(bad...); err == nil {
			t.Errorf("%v succeeded:\n%s", bad, out)
		}
	}

	out, err = cli("site", "update", "--slug", "blog", "--embed-creates-articles=true")
	if err != nil || !strings.Contains(out, "articles:        first embeds create them, at most 7 an hour") {
		t.Fatalf("site update: %v\n%s", err, out)
	}
	if !shown("second") {
		t.Error("turned back on, a first embed creates no article")
	}
}

// TestBackupIntoAMissingFolder: `threadline backup --db X backups/x.db` makes backups/ rather than fail with
// SQLite's "unable to open database file (14)".
func TestBackupIntoAMissingFolder(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "threadline.db")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--db", dbPath}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "backups", "x.db")
	if err := run(context.Background(), []string{"backup", "--db", dbPath, target}, &out, &errOut); err != nil {
		t.Fatalf("backup into a missing folder: %v", err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Size() == 0 {
		t.Fatalf("no backup at %s: %v", target, err)
	}
}
