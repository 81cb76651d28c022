package cluster_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
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

// readNewest reads, anonymously, the IDs of the article's newest comments (first of them: another question
// from newest's), with the response's Cache-Status and error codes.
func readNewest(t *testing.T, base string, first int) (ids []string, cacheStatus string, codes []string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"query":     `query($s: String!, $k: String!, $n: Int!) { article(site: $s, key: $k) { comments(first: $n, orderBy: NEWEST) { nodes { id } } } }`,
		"variables": map[string]any{"s": seed.SiteSlug, "k": seed.ArticleKey, "n": first},
	})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Article struct {
				Comments struct{ Nodes []struct{ ID string } }
			}
		}
		Errors []gqlError
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode (status %d): %v", resp.StatusCode, err)
	}
	for _, n := range r.Data.Article.Comments.Nodes {
		ids = append(ids, n.ID)
	}
	for _, e := range r.Errors {
		codes = append(codes, fmt.Sprint(e.Extensions["code"]))
	}
	return ids, resp.Header.Get("Cache-Status"), codes
}

// TestStaleIfErrorAcrossARestart: with PostgreSQL stopped, server B answers an anonymous read it has cached
// with the cached thread, marked stale-if-error (and one it has not with INTERNAL); once PostgreSQL is back,
// the writes A acknowledges, from the first, are in B's anonymous reads at once, although B's follower of the
// event log comes back later (its reconnect backoff): meanwhile B's cache answers only if the database cannot.
func TestStaleIfErrorAcrossARestart(t *testing.T) {
	pg := startOwnCluster(t)
	a := startNode(t, pg.url(), cluster.Options{})
	if _, err := seed.Load(context.Background(), a.Svc); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, pg.url(), cluster.Options{})
	token := newReader(t, a.URL, "Ada")
	article := articleID(t, a.URL)
	var heard atomic.Int64 // the changes B's follower handed on
	b.Svc.OnChange(func(int64) { heard.Add(1) })
	waitFor(t, "B's follower reads the log", func() bool { return !b.Node.Behind() })
	heardBefore := heard.Load()
	before := post(t, a.URL, token, article, "before the restart")
	// Once B heard of it, nothing changes until the restart: what B caches then stays fresh.
	waitFor(t, "B hears of the comment", func() bool { return heard.Load() > heardBefore })
	waitFor(t, "B has the thread with the comment cached", func() bool {
		ids, cs, _ := readNewest(t, b.URL, 5)
		return slices.Contains(ids, before) && cs == "threadline; hit"
	})

	pg.stop(t)
	waitFor(t, "B's follower knows the log is lost", b.Node.Behind)
	start := time.Now()
	ids, cs, codes := readNewest(t, b.URL, 5)
	if !slices.Contains(ids, before) || cs != "threadline; hit; detail=stale-if-error" || len(codes) > 0 {
		t.Errorf("B's cached read with PostgreSQL stopped: %v %v (Cache-Status %q), want %s, stale-if-error", ids, codes, cs, before)
	}
	t.Logf("a stale-if-error answer with PostgreSQL stopped took %v", time.Since(start).Round(time.Microsecond))
	if _, cs, codes := readNewest(t, b.URL, 4); !slices.Equal(codes, []string{"INTERNAL"}) {
		t.Errorf("B's uncached read with PostgreSQL stopped: %v (Cache-Status %q), want INTERNAL", codes, cs)
	}
	time.Sleep(2 * time.Second) // long enough for the follower's backoff to grow

	pg.start(t)
	up := time.Now()
	// When B's follower is back, watched beside the writes.
	var back atomic.Pointer[time.Time]
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for b.Node.Behind() {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
		now := time.Now()
		back.Store(&now)
	}()
	defer func() { close(stop); <-watched }()

	var firstAck time.Time
	var ackedBehind, missedBehind, missed, failed int
	var lates []time.Duration
	for {
		var out struct {
			AddComment struct{ Comment struct{ ID string } }
		}
		errs := do(t, a.URL, token, `mutation($a: ID!, $b: String!) { addComment(input: {articleId: $a, body: $b}) { comment { id } } }`,
			map[string]any{"a": article, "b": "after the restart"}, &out)
		if len(errs) > 0 {
			if !firstAck.IsZero() || time.Since(up) > 20*time.Second {
				t.Fatalf("a write on A after PostgreSQL was back: %+v", errs)
			}
			failed++
			time.Sleep(5 * time.Millisecond)
			continue
		}
		acked := time.Now()
		id := out.AddComment.Comment.ID
		if firstAck.IsZero() {
			firstAck = acked
		}
		behind := b.Node.Behind()
		if behind {
			ackedBehind++
		}
		// From A's acknowledgement on, B's anonymous reads have the comment: at once, or within the
		// notification's delay once B's follower is back.
		var late time.Duration
		for {
			ids, cs, codes := readNewest(t, b.URL, 5)
			if slices.Contains(ids, id) {
				break
			}
			if late == 0 {
				if behind {
					missedBehind++
					t.Logf("B's first read after A acknowledged %s, while B's follower was behind, misses it: Cache-Status %q, errors %v", id, cs, codes)
				} else {
					missed++
				}
			}
			late = time.Since(acked)
			if late > 250*time.Millisecond {
				t.Fatalf("B's anonymous reads miss %s %v after A acknowledged it (Cache-Status %q, errors %v)", id, late, cs, codes)
			}
			time.Sleep(time.Millisecond)
		}
		lates = append(lates, late)
		if at := back.Load(); at != nil && acked.Sub(*at) > 200*time.Millisecond {
			break
		}
		if time.Since(up) > 30*time.Second {
			t.Fatal("B's follower is not back 30 s after PostgreSQL")
		}
	}
	t.Logf("PostgreSQL up → A acknowledges writes again: %v (%d writes failed before); → B's follower back and caught up: %v",
		firstAck.Sub(up).Round(time.Millisecond), failed, back.Load().Sub(up).Round(time.Millisecond))
	t.Logf("%d writes acknowledged on A, %d of them while B's follower was behind; B's first read missed the comment %d times while its follower was behind, %d times after (the notification delay); B read a comment at the latest %v after A acknowledged it (median %v)",
		len(lates), ackedBehind, missedBehind, missed, slices.Max(lates), percentile(lates, 0.5))
}
