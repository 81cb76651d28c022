package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
)

// testServer is a real Threadline server over a real database (SQLite, or PostgreSQL when
// THREADLINE_TEST_STORE=postgres: see internal/teststore), with the sample loaded.
type testServer struct {
	URL   string
	DB    *teststore.DB
	Svc   *thread.Service
	clock *fakeClock
}

// fakeClock advances one millisecond per reading, so that every write gets a distinct, increasing time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func newTestServer(tb testing.TB) *testServer {
	tb.Helper()
	return newTestServerWith(tb, server.Options{})
}

// newTestServerWith is newTestServer with options; the log is discarded.
func newTestServerWith(tb testing.TB, opts server.Options) *testServer {
	tb.Helper()
	ctx := context.Background()
	db, svc := teststore.Open(tb)
	clock := &fakeClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	svc.Now = clock.now
	if _, err := seed.Load(ctx, svc); err != nil {
		tb.Fatal(err)
	}
	opts.Log, opts.Pools = slog.New(slog.NewTextHandler(io.Discard, nil)), db.Pools()
	if opts.Bus == nil { // a test that brings its own bus publishes to it itself
		lv := db.Live(tb, svc, opts.SubscriberBuffer, 0)
		opts.Health, opts.Ready = lv.Health, lv.Ready
		if lv.Bus != nil {
			opts.Bus = lv.Bus
		}
	} else {
		opts.Health = db.Ping
	}
	hs := httptest.NewServer(server.New(svc, opts))
	tb.Cleanup(hs.Close)
	return &testServer{URL: hs.URL, DB: db, Svc: svc, clock: clock}
}

// gqlResponse is a GraphQL response as the wire carries it.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// code returns the extensions.code of the first error, or "".
func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do posts a GraphQL request, with a bearer token when token is not empty.
func (s *testServer) do(tb testing.TB, token, query string, vars map[string]any) *gqlResponse {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	out.status = resp.StatusCode
	return &out
}

// mustDo is do for requests that must succeed; it decodes data into v.
func (s *testServer) mustDo(tb testing.TB, token, query string, vars map[string]any, v any) {
	tb.Helper()
	r := s.do(tb, token, query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("unexpected errors: %+v\nquery: %s", r.Errors, query)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			tb.Fatalf("decode data: %v\n%s", err, r.Data)
		}
	}
}

// newReader creates a reader on the demo site and returns its ID and token.
func (s *testServer) newReader(tb testing.TB, name string) (id, token string) {
	tb.Helper()
	var data struct {
		CreateReader struct {
			Reader struct{ ID string }
			Token  string
		}
	}
	s.mustDo(tb, "", `mutation($name: String!) { createReader(input: {site: "demo", displayName: $name}) { reader { id } token } }`,
		map[string]any{"name": name}, &data)
	return data.CreateReader.Reader.ID, data.CreateReader.Token
}

// articleID returns the global ID of the sample article.
func (s *testServer) articleID(tb testing.TB) string {
	tb.Helper()
	var data struct{ Article struct{ ID string } }
	s.mustDo(tb, "", `{ article(site: "demo", key: "social-credit") { id } }`, nil, &data)
	return data.Article.ID
}

// addComment posts a comment (a reply when parent is not empty) and returns its ID.
func (s *testServer) addComment(tb testing.TB, token, articleID, parent, body string) string {
	tb.Helper()
	vars := map[string]any{"a": articleID, "b": body}
	if parent != "" {
		vars["p"] = parent
	}
	var data struct {
		AddComment struct{ Comment struct{ ID string } }
	}
	s.mustDo(tb, token, `mutation($a: ID!, $p: ID, $b: String!) { addComment(input: {articleId: $a, parentId: $p, body: $b}) { comment { id } } }`,
		vars, &data)
	return data.AddComment.Comment.ID
}

// advance moves the clock forward by d.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
