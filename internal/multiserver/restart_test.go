package multiserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
)

// pgCluster is a PostgreSQL cluster of the test's own, started with the repository's .ci/postgres, so that the
// test may stop and start it without disturbing the tests that share THREADLINE_TEST_POSTGRES's.
type pgCluster struct {
	dir, bin string
	port     int
	url      string // its postgres database, which the servers use
}

func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	if !pgtest.Available() {
		t.Skip(pgtest.SkipReason)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		bins = append(bins, p)
	}
	if len(bins) == 0 {
		t.Skip("no pg_ctl: this test runs a PostgreSQL cluster of its own")
	}
	script, err := filepath.Abs("../../.ci/postgres")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "threadline-multiserver-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{dir: dir, bin: filepath.Dir(bins[len(bins)-1]), port: freePort(t)}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf(".ci/postgres stop: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
	})
	out, err := exec.Command(script, "start", dir, strconv.Itoa(c.port)).CombinedOutput()
	if err != nil {
		t.Fatalf(".ci/postgres start: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`'(postgres://[^']+)'`).FindSubmatch(out)
	if m == nil {
		t.Fatalf(".ci/postgres start said %s", out)
	}
	c.url = string(m[1])
	return c
}

// pgCtl runs pg_ctl as the cluster's owner: ourselves, or the postgres user when we are root (as .ci/postgres).
func (c *pgCluster) pgCtl(args ...string) error {
	cmd := append([]string{filepath.Join(c.bin, "pg_ctl"), "-D", c.dir}, args...)
	if os.Geteuid() == 0 {
		cmd = append([]string{"runuser", "-u", "postgres", "--"}, cmd...)
	}
	if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// crash stops PostgreSQL the way a crash or a power cut would (immediate: no checkpoint, recovery from the WAL
// at the next start).
func (c *pgCluster) crash() error { return c.pgCtl("-m", "immediate", "-w", "stop") }

// start starts it again, with .ci/postgres's options.
func (c *pgCluster) start() error {
	return c.pgCtl("-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB", c.port, c.dir))
}

func freePort(t *testing.T) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	n, _ := strconv.Atoi(port)
	return n
}

// readiness records what a server's /readyz answers, every 50 ms, as the run of distinct answers.
type readiness struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	seen []int // 0: no answer
}

func watchReadiness(s *server) *readiness {
	r := &readiness{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			status := s.ready()
			r.mu.Lock()
			if len(r.seen) == 0 || r.seen[len(r.seen)-1] != status {
				r.seen = append(r.seen, status)
			}
			r.mu.Unlock()
			select {
			case <-r.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return r
}

func (r *readiness) halt() []int {
	close(r.stop)
	<-r.done
	return r.seen
}

// TestPostgresRestartedUnderLoad crashes PostgreSQL under writes to both servers, keeps it down for 2 s and
// starts it again: the writes during the outage fail with INTERNAL (or 503), every acknowledged comment is in
// the database afterwards, /readyz answers 503 during the outage and 200 after it, and a subscriber that stayed
// connected to each server receives every acknowledged comment, or RESYNC: never a silent gap.
func TestPostgresRestartedUnderLoad(t *testing.T) {
	pg := startPGCluster(t)
	a, b := startPair(t, pg.url, "--rate-limit=false")
	servers := []*server{a, b}
	article := a.sampleArticle(t)
	var subs []*subscriber
	for _, s := range servers {
		sub, err := s.subscribe(article, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sub.close)
		s.waitSubscribers(t, 1)
		subs = append(subs, sub)
	}
	var watches []*readiness
	for _, s := range servers {
		watches = append(watches, watchReadiness(s))
	}

	w := startWriters(t, article, 2, a, b)
	time.Sleep(500 * time.Millisecond)
	down := time.Now()
	if err := pg.crash(); err != nil {
		t.Fatal(err)
	}
	crashed := time.Now()
	time.Sleep(time.Second)
	// Reads the response cache holds may go on; whether this one is in it depends on when the writers' last
	// change reached the cache. Said, not required.
	for _, s := range servers {
		r, err := s.do("", newestQuery, sampleVars)
		if err == nil {
			t.Logf("during the outage, an anonymous read of the thread on %s: %d, %s, %s", s.name, r.Status, r.CacheStatus, r.code())
		} else {
			t.Logf("during the outage, an anonymous read of the thread on %s: %v", s.name, err)
		}
	}
	time.Sleep(time.Second)
	starting := time.Now() // PostgreSQL may answer before pg_ctl says so
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	for _, s := range servers {
		if err := s.waitReady(30 * time.Second); err != nil {
			t.Errorf("server %s after PostgreSQL came back: %v", s.name, err)
		}
	}
	ready := time.Now()
	time.Sleep(time.Second)
	writes := w.halt()
	var seen [][]int
	for _, r := range watches {
		seen = append(seen, r.halt())
	}
	t.Logf("PostgreSQL down for %s (crash took %s); both servers ready %s after it was up",
		up.Sub(down).Round(time.Millisecond), crashed.Sub(down).Round(time.Millisecond), ready.Sub(up).Round(time.Millisecond))

	failures := map[string]int{}
	var acked, ackedDuring, ackedUnready, failedAfter int
	for _, x := range writes {
		if x.err == nil {
			acked++
			if x.at.After(up) && x.at.Before(ready) {
				ackedUnready++ // PostgreSQL answers, but a follower is not back yet: /readyz still says 503
			}
			if x.at.After(crashed) && x.at.Before(starting) {
				ackedDuring++
			}
			continue
		}
		code := codeOf(x.err)
		var e *apiError
		if code != "INTERNAL" && !(asAPIError(x.err, &e) && e.status == 503) {
			t.Errorf("a write to %s failed with %v, want INTERNAL or 503", x.server, x.err)
		}
		failures[x.server+" "+code]++
		if x.at.Before(down) {
			t.Errorf("a write to %s failed before PostgreSQL went down: %v", x.server, x.err)
		}
		if x.at.After(ready) {
			failedAfter++
		}
	}
	t.Logf("%d writes acknowledged (%d while PostgreSQL was down: none expected); failures by server and code: %v; %d failed after both servers were ready again",
		acked, ackedDuring, failures, failedAfter)
	t.Logf("%d writes acknowledged after PostgreSQL was up and before both servers' /readyz answered 200", ackedUnready)
	if ackedDuring > 0 {
		t.Errorf("%d writes were acknowledged while PostgreSQL was down", ackedDuring)
	}
	if len(failures) == 0 {
		t.Errorf("no write failed while PostgreSQL was down: the outage did not happen")
	}
	if failedAfter > 0 {
		t.Errorf("%d writes failed after both servers answered /readyz 200 again", failedAfter)
	}
	for i, s := range servers {
		t.Logf("server %s /readyz answered, in turn: %v", s.name, seen[i])
		if !hasRun(seen[i], 200, 503, 200) {
			t.Errorf("server %s /readyz answered %v, want 200, then 503 while PostgreSQL was down, then 200", s.name, seen[i])
		}
	}
	checkAllStored(t, b, writes)
	for i, sub := range subs {
		checkCaughtUp(t, "the subscriber of "+servers[i].name, b, writes, true, sub)
		for _, at := range sub.resumes() {
			t.Logf("the subscriber of %s was closed for falling behind %s after PostgreSQL went down (it came back after %s)",
				servers[i].name, at.Sub(down).Round(time.Millisecond), starting.Sub(down).Round(time.Millisecond))
		}
	}
}

// hasRun reports whether seen holds want in order, maybe with other answers between.
func hasRun(seen []int, want ...int) bool {
	for _, s := range seen {
		if len(want) > 0 && s == want[0] {
			want = want[1:]
		}
	}
	return len(want) == 0
}
