package cluster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server/cluster"
)

// ownCluster is a throwaway PostgreSQL cluster of the test's own (.ci/postgres), which the test may stop and
// start: the shared one of THREADLINE_TEST_POSTGRES serves other tests meanwhile.
type ownCluster struct {
	dir, bin string
	port     int
}

func startOwnCluster(t *testing.T) *ownCluster {
	t.Helper()
	if !pgtest.Available() {
		t.Skip(pgtest.SkipReason)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Skip("pg_ctl is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var b [6]byte
	rand.Read(b[:])
	c := &ownCluster{dir: "/tmp/threadline-restart-" + hex.EncodeToString(b[:]), bin: filepath.Dir(bins[len(bins)-1]), port: port}
	script, _ := filepath.Abs("../../.ci/postgres")
	if out, err := exec.Command(script, "start", c.dir, fmt.Sprint(port)).CombinedOutput(); err != nil {
		t.Fatalf("start a cluster: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(script, "stop", c.dir).Run() })
	return c
}

func (c *ownCluster) url() string {
	return fmt.Sprintf("postgres://threadline@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", c.port)
}

// pgctl runs pg_ctl on the cluster as its owner.
func (c *ownCluster) pgctl(t *testing.T, args ...string) {
	t.Helper()
	args = append([]string{"-D", c.dir, "-w", "-t", "60"}, args...)
	cmd := exec.Command(filepath.Join(c.bin, "pg_ctl"), args...)
	if os.Getuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl")}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

func (c *ownCluster) stop(t *testing.T) { c.pgctl(t, "-m", "fast", "stop") }

func (c *ownCluster) start(t *testing.T) {
	c.pgctl(t, "-l", filepath.Join(c.dir, "log"), "start", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300", c.port, c.dir))
}

// status returns the HTTP status of a GET.
func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPostgresRestartedWhileServing: PostgreSQL stopped under two servers makes /healthz and /readyz answer
// 503 and writes fail with INTERNAL, while cached reads go on; once it is back, the servers reconnect, their
// followers LISTEN again, and nothing acknowledged is lost: a subscriber on B receives the events of the
// writes acknowledged before and after, in order, and B's reads see them.
func TestPostgresRestartedWhileServing(t *testing.T) {
	pg := startOwnCluster(t)
	a := startNode(t, pg.url(), cluster.Options{})
	if _, err := seed.Load(context.Background(), a.Svc); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, pg.url(), cluster.Options{})
	token := newReader(t, a.URL, "Ada")
	article := articleID(t, a.URL)
	sub := subscribe(t, b.URL, article, "")
	time.Sleep(100 * time.Millisecond)
	before := post(t, a.URL, token, article, "before the restart")
	if e := sub.event(t); e.CommentID != before {
		t.Fatalf("event %+v, want %s", e, before)
	}
	waitFor(t, "B reads the comment", func() bool { return slices.Contains(newest(t, b.URL), before) })

	pg.stop(t)
	for _, n := range []*node{a, b} {
		for _, path := range []string{"/healthz", "/readyz"} {
			start := time.Now()
			if got := status(t, n.URL+path); got != http.StatusServiceUnavailable {
				t.Errorf("%s with PostgreSQL stopped: %d, want 503", path, got)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s took %v", path, d)
			}
		}
	}
	errs := do(t, a.URL, token, `mutation($a: ID!) { addComment(input: {articleId: $a, body: "while down"}) { comment { id } } }`,
		map[string]any{"a": article}, nil)
	if len(errs) == 0 || errs[0].Extensions["code"] != "INTERNAL" {
		t.Errorf("a write with PostgreSQL stopped: %+v, want INTERNAL", errs)
	}
	if !slices.Contains(newest(t, b.URL), before) { // from B's cache
		t.Error("B's cached read lost the comment")
	}

	pg.start(t)
	for _, n := range []*node{a, b} {
		waitFor(t, "ready again", func() bool { return status(t, n.URL+"/readyz") == http.StatusOK })
	}
	after := post(t, a.URL, token, article, "after the restart")
	if e := sub.event(t); e.CommentID != after {
		t.Fatalf("after the restart, event %+v, want %s", e, after)
	}
	waitFor(t, "B reads the comment posted after the restart", func() bool {
		ids := newest(t, b.URL)
		return slices.Contains(ids, after) && slices.Contains(ids, before)
	})
}

// TestAFollowerCutOffCatchesUp: writes committed while a server's follower is cut off from the database
// reach its subscribers once it has reconnected, late but none missing.
func TestAFollowerCutOffCatchesUp(t *testing.T) {
	a, b, _ := twoNodes(t)
	token := newReader(t, a.URL, "Ada")
	article := articleID(t, a.URL)
	sub := subscribe(t, b.URL, article, "")
	time.Sleep(100 * time.Millisecond)
	ctx := context.Background()
	// Every follower's connection is ended; the writes that follow commit before they are back.
	if _, err := a.DB.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'threadline event follower' AND datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 5 {
		ids = append(ids, post(t, a.URL, token, article, "while B's follower was away"))
	}
	for _, id := range ids {
		if e := sub.event(t); e.CommentID != id {
			t.Fatalf("event %+v, want %s", e, id)
		}
	}
}
