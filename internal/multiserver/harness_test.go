package multiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/seed"
)

// threadlineBin is the binary the tests run, built once by TestMain.
var threadlineBin string

func TestMain(m *testing.M) {
	if !pgtest.Available() {
		os.Exit(m.Run()) // every test skips, saying why
	}
	dir, err := os.MkdirTemp("", "threadline-multiserver-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	threadlineBin = filepath.Join(dir, "threadline")
	build := exec.Command("go", "build", "-o", threadlineBin, "github.com/threadline/threadline/cmd/threadline")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build (the widget's app.wasm comes from `make wasm`): %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running `threadline serve`.
type server struct {
	name   string
	base   string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has ended
	log    *logBuffer
}

// startServer starts `threadline serve` on db and waits until its /readyz answers 200. The test's cleanup
// stops it (Ctrl-C, then SIGKILL after 10 s) and shows its log if the test failed.
func startServer(t *testing.T, name, db string, args ...string) *server {
	t.Helper()
	s, err := launch(t, name, db, args...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// launch is startServer for any goroutine: it returns what went wrong.
func launch(t *testing.T, name, db string, args ...string) (*server, error) {
	addr := freeAddr(t)
	s := &server{name: name, base: "http://" + addr, exited: make(chan struct{}), log: &logBuffer{}}
	s.cmd = exec.Command(threadlineBin, append([]string{"serve", "--addr", addr, "--db", db, "--log-level", "WARN"}, args...)...)
	s.cmd.Env = withoutThreadlineEnv(os.Environ())
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server %s (%s) logged:\n%s", s.name, s.base, s.log.String())
		}
	})
	if err := s.waitReady(30 * time.Second); err != nil {
		return nil, fmt.Errorf("server %s: %v\n%s", name, err, s.log.String())
	}
	return s, nil
}

// startPair starts servers A and B on db, one after the other: A migrates the database and loads the sample.
func startPair(t *testing.T, db string, args ...string) (a, b *server) {
	t.Helper()
	return startServer(t, "A", db, args...), startServer(t, "B", db, args...)
}

// withoutThreadlineEnv drops THREADLINE_* settings of the environment the tests run in: flags say it all.
func withoutThreadlineEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "THREADLINE_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitReady waits until /readyz answers 200, the process ends, or within passes.
func (s *server) waitReady(within time.Duration) error {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s.ready() == http.StatusOK {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("ended (%v) before /readyz answered 200", s.cmd.ProcessState)
		default:
		}
	}
	return fmt.Errorf("/readyz did not answer 200 within %s", within)
}

// ready returns /readyz's status, or 0 when the server does not answer.
func (s *server) ready() int {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// stop interrupts the server, as a person at a terminal would (no drain), and kills it if it outlives 10 s.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.kill()
	}
}

// kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logBuffer collects a process's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gqlError is one error of a GraphQL response.
type gqlError struct {
	Message    string
	Extensions struct{ Code string }
}

// response is a GraphQL response, with its HTTP status and Cache-Status header.
type response struct {
	Status      int
	CacheStatus string
	Data        json.RawMessage
	Errors      []gqlError
}

// code returns the first error's code, "" when there is none.
func (r *response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

// do sends a GraphQL request to the server, with a reader's token unless it is empty (an anonymous request,
// which the response cache may answer). An error means no GraphQL response came back.
func (s *server) do(token, query string, vars map[string]any) (*response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := &response{Status: resp.StatusCode, CacheStatus: resp.Header.Get("Cache-Status")}
	if err := json.NewDecoder(resp.Body).Decode(r); err != nil {
		return nil, fmt.Errorf("%s: %w", resp.Status, err)
	}
	return r, nil
}

// query is do for a request that must succeed: its data is decoded into out.
func (s *server) query(t testing.TB, token, query string, vars map[string]any, out any) *response {
	t.Helper()
	r, err := s.do(token, query, vars)
	if err == nil && len(r.Errors) > 0 {
		err = fmt.Errorf("%s: %s", r.code(), r.Errors[0].Message)
	}
	if err == nil && out != nil {
		err = json.Unmarshal(r.Data, out)
	}
	if err != nil {
		t.Fatalf("server %s: %v\nquery: %s", s.name, err, query)
	}
	return r
}

// sampleArticle returns the global ID of the sample article, which the first server loaded.
func (s *server) sampleArticle(t testing.TB) string {
	t.Helper()
	var out struct{ Article struct{ ID string } }
	s.query(t, "", `query($site: String!, $key: String!) { article(site: $site, key: $key) { id } }`,
		map[string]any{"site": seed.SiteSlug, "key": seed.ArticleKey}, &out)
	if out.Article.ID == "" {
		t.Fatalf("server %s has no sample article", s.name)
	}
	return out.Article.ID
}

// createReader makes a reader of the sample's site through the API and returns their token.
func (s *server) createReader(name string) (string, *response, error) {
	r, err := s.do("", `mutation($site: String!, $name: String!) { createReader(input: {site: $site, displayName: $name}) { token } }`,
		map[string]any{"site": seed.SiteSlug, "name": name})
	if err != nil || len(r.Errors) > 0 {
		return "", r, errOf(r, err)
	}
	var out struct{ CreateReader struct{ Token string } }
	if err := json.Unmarshal(r.Data, &out); err != nil || out.CreateReader.Token == "" {
		return "", r, fmt.Errorf("no token in %s", r.Data)
	}
	return out.CreateReader.Token, r, nil
}

func (s *server) mustCreateReader(t testing.TB, name string) string {
	t.Helper()
	token, _, err := s.createReader(name)
	if err != nil {
		t.Fatalf("server %s: createReader: %v", s.name, err)
	}
	return token
}

// addComment posts a top-level comment and returns its ID and status once the server acknowledged it.
func (s *server) addComment(token, articleID, body string) (id, status string, r *response, err error) {
	r, err = s.do(token, `mutation($a: ID!, $body: String!) { addComment(input: {articleId: $a, body: $body}) { comment { id status } } }`,
		map[string]any{"a": articleID, "body": body})
	if err != nil || len(r.Errors) > 0 {
		return "", "", r, errOf(r, err)
	}
	var out struct {
		AddComment struct{ Comment struct{ ID, Status string } }
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || out.AddComment.Comment.ID == "" {
		return "", "", r, fmt.Errorf("no comment in %s", r.Data)
	}
	return out.AddComment.Comment.ID, out.AddComment.Comment.Status, r, nil
}

// likeComment likes a comment as the token's reader.
func (s *server) likeComment(token, commentID string) error {
	r, err := s.do(token, `mutation($c: ID!) { likeComment(input: {commentId: $c}) { comment { likeCount } } }`,
		map[string]any{"c": commentID})
	return errOf(r, err)
}

// existing returns which of the comments exist, read anonymously on the server.
func (s *server) existing(t testing.TB, ids []string) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	for len(ids) > 0 {
		n := min(len(ids), 100)
		var out struct{ Nodes []*struct{ ID string } }
		s.query(t, "", `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Comment { id } } }`, map[string]any{"ids": ids[:n]}, &out)
		for _, c := range out.Nodes {
			if c != nil && c.ID != "" {
				found[c.ID] = true
			}
		}
		ids = ids[n:]
	}
	return found
}

func errOf(r *response, err error) error {
	if err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		return &apiError{status: r.Status, code: r.code(), message: r.Errors[0].Message}
	}
	return nil
}

// apiError is a GraphQL response's error.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func codeOf(err error) string {
	var e *apiError
	if errors.As(err, &e) {
		return e.code
	}
	return ""
}

// eventually polls cond every 10 ms until it holds, and returns how long that took, or fails the test after
// within, showing what cond last saw.
func eventually(t testing.TB, within time.Duration, what string, cond func() (ok bool, saw string)) time.Duration {
	t.Helper()
	return eventuallyEvery(t, 10*time.Millisecond, within, what, cond)
}

// eventuallyEvery is eventually polling every interval, for the tests that measure how long it takes.
func eventuallyEvery(t testing.TB, interval, within time.Duration, what string, cond func() (ok bool, saw string)) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, saw := cond()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s; last saw %s", what, within, saw)
		}
		time.Sleep(interval)
	}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted durations, by the nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// parallel runs f(i) for i in [0, n) on workers goroutines and returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// liveSubscribers returns the subscriptions the server holds, from its /metrics; -1 when it does not say.
func (s *server) liveSubscribers() int {
	resp, err := httpClient.Get(s.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "threadline_live_subscribers "); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return -1
}

// waitSubscribers waits until the server holds n subscriptions: a subscribe message is taken in the
// background, and a comment posted before it is in place is not the subscriber's to receive.
func (s *server) waitSubscribers(t testing.TB, n int) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("server %s holds %d subscriptions", s.name, n), func() (bool, string) {
		got := s.liveSubscribers()
		return got == n, strconv.Itoa(got)
	})
}

func asAPIError(err error, target **apiError) bool { return errors.As(err, target) }
