package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// hostileShape is a request built to make parsing, validation or execution spend time or memory.
type hostileShape struct {
	name      string
	query     string
	operation string
	vars, ext map[string]any
	rawVars   string // variables as raw JSON, when vars cannot say it (deep nesting)
	rawBody   string // the whole body (GET: the variables; WebSocket: the message), when it is not JSON
}

// repeat joins n copies of f(i).
func repeat(n int, f func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(f(i))
	}
	return b.String()
}

// hostileShapes are the worst requests we could think of. Each must be refused at once, with a small answer.
func hostileShapes() []hostileShape {
	const levels = 40
	bomb := "query { ...F0 }" + repeat(levels, func(i int) string {
		return fmt.Sprintf(" fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}) + fmt.Sprintf(" fragment F%d on Query { viewer { id } }", levels)
	nested := "[]"
	for range 4000 {
		nested = "[" + nested + "]"
	}
	return []hostileShape{
		// The probe's: 1,000 aliases of one field with different arguments, each pair a conflict to report.
		{name: "1,000 conflicting aliases", query: "{" + repeat(1000, func(i int) string { return fmt.Sprintf(`a:node(id:"%d"){id} `, i) }) + "}"},
		{name: "700 conflicting aliases under the token limit", query: "{" + repeat(700, func(i int) string { return fmt.Sprintf(`a: node(id: "%d") { id } `, i) }) + "}"},
		{name: "aliases that conflict by field", query: "{" + repeat(1500, func(i int) string { return []string{"a: __typename ", "a: viewer { id } "}[i%2] }) + "}"},
		// As many conflicting fields as the limits let through: groups of 16 fields sharing a response name.
		{name: "the most conflicts the limits allow", query: "{" + repeat(16, func(i int) string {
			return fmt.Sprintf(` article(site: "demo", key: "k%d") { id } site(slug: "s%d") { slug } node(id: "n%d") { id }`+
				` nodes(ids: ["n%d"]) { id } articles(site: "demo", keys: ["k%d"]) { id }`, i, i, i, i, i)
		}) + " }"},
		{name: "1,000 distinct aliases", query: "{" + repeat(1000, func(i int) string { return fmt.Sprintf("a%d: __typename ", i) }) + "}"},
		// The probe's: 20,000 copies of one field, 220 KB.
		{name: "20,000 duplicated fields", query: "{" + strings.Repeat(" __typename", 20_000) + " }"},
		{name: "7,000 duplicated fields", query: "{ viewer {" + strings.Repeat(" id", 7_000) + " } }"},
		{name: "duplicated fields nested", query: "{" + strings.Repeat(" viewer { id displayName }", 1_000) + " }"},
		{name: "fragments spreading one field with different arguments",
			query: "{" + repeat(60, func(i int) string { return fmt.Sprintf(" ...F%d", i) }) + " }" +
				repeat(60, func(i int) string { return fmt.Sprintf(` fragment F%d on Query { a: node(id: "%d") { id } }`, i, i) })},
		{name: "one fragment spread 2,000 times", query: "{" + strings.Repeat(" ...F", 2_000) + " } fragment F on Query { __typename }"},
		{name: "spreads of missing fragments", query: "{" + repeat(3_000, func(i int) string { return fmt.Sprintf(" ...F%d", i) }) + " }"},
		{name: "fragment bomb", query: bomb},
		{name: "deep nesting", query: "{" + strings.Repeat(" a {", 3_000) + " b" + strings.Repeat(" }", 3_001)},
		{name: "inline fragments", query: "{" + strings.Repeat(" ... on Query { __typename }", 1_000) + " }"},
		{name: "nested inline fragments", query: "{" + strings.Repeat(" ... on Query {", 2_000) + " __typename" + strings.Repeat(" }", 2_001)},
		{name: "directives", query: "{ __typename" + strings.Repeat(" @skip(if: false)", 1_000) + " }"},
		{name: "arguments", query: "{ viewer(" + strings.Repeat("a: 1 ", 2_000) + ") { id } }"},
		{name: "object fields", query: `mutation { createReader(input: {` + strings.Repeat(`site: "x" `, 2_500) + `}) { token } }`},
		{name: "nested list literal", query: `{ node(id: ` + nested + `) { id } }`},
		{name: "long string", query: `{ node(id: "` + strings.Repeat("x", 200_000) + `") { id } }`},
		{name: "string just under the query limit", query: `{ node(id: "` + strings.Repeat("x", 30_000) + `") { id } }`},
		{name: "many operations", operation: "Q0", query: repeat(200, func(i int) string { return fmt.Sprintf("query Q%d { __typename } ", i) })},
		{name: "many fragments", query: "{ __typename }" + repeat(200, func(i int) string { return fmt.Sprintf(" fragment F%d on Query { __typename }", i) })},
		{name: "variable definitions", query: "query(" + repeat(1_000, func(i int) string { return fmt.Sprintf("$v%d: Int ", i) }) + ") { __typename }"},
		{name: "variables sent", query: "{ __typename }", vars: func() map[string]any {
			m := map[string]any{}
			for i := range 10_000 {
				m[fmt.Sprint("v", i)] = i
			}
			return m
		}()},
		{name: "a long variable list", query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, vars: map[string]any{"ids": strings.Split(strings.Repeat("a,", 50_000), ",")}},
		{name: "deeply nested variables", query: "query($v: [Int]) { __typename }", rawVars: `{"v": ` + nested + `}`},
		{name: "extensions", query: "{ __typename }", ext: map[string]any{"x": strings.Split(strings.Repeat("a,", 10_000), ",")}},
		{name: "deep extensions", query: "{ __typename }", ext: map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": map[string]any{"e": 1}}}}}},
		{name: "persisted query junk", query: "{ __typename }", ext: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.Repeat("z", 10_000)}}},
		{name: "malformed JSON of 200 KB", rawBody: `{"query": "` + strings.Repeat("x", 200_000)},
		{name: "100,000 small values", rawBody: `{"query": "{ __typename }", "variables": {"v": [` + strings.Repeat("0,", 100_000) + `0]}}`},
		{name: "an Int of 33 bits", query: `{ article(site: "demo", key: "social-credit") { comments(first: 4294967296) { totalCount } } }`},
		{name: "an Int variable of 33 bits", query: `query($n: Int) { article(site: "demo", key: "social-credit") { comments(first: $n) { totalCount } } }`,
			vars: map[string]any{"n": 4294967296}},
		{name: "an Int beyond 64 bits", query: `{ article(site: "demo", key: "social-credit") { comments(first: 99999999999999999999999) { totalCount } } }`},
	}
}

// refusal is how a server answered a hostile request.
type refusal struct {
	status  int // HTTP status; 0 over WebSocket
	codes   []string
	closed  string // a WebSocket closed instead of answering: why
	size    int    // bytes of the answer
	elapsed time.Duration
}

// refused reports whether the answer is a refusal the table accepts: 413 or 414, or errors that all carry
// QUERY_TOO_COMPLEX or BAD_USER_INPUT, or a WebSocket closed because its message was too big.
func (r refusal) refused() bool {
	if r.status == http.StatusRequestEntityTooLarge || r.status == http.StatusRequestURITooLong || r.closed != "" {
		return true
	}
	if len(r.codes) == 0 {
		return false
	}
	for _, c := range r.codes {
		if c != "QUERY_TOO_COMPLEX" && c != "BAD_USER_INPUT" {
			return false
		}
	}
	return true
}

// hostileTransports send a shape over each transport and say how it was answered.
var hostileTransports = []struct {
	name string
	send func(ctx context.Context, base string, h hostileShape) (refusal, error)
}{
	{"POST", func(ctx context.Context, base string, h hostileShape) (refusal, error) {
		return sendHTTP(ctx, http.MethodPost, base, h, "application/json")
	}},
	{"GET", func(ctx context.Context, base string, h hostileShape) (refusal, error) {
		return sendHTTP(ctx, http.MethodGet, base, h, "application/json")
	}},
	{"SSE", func(ctx context.Context, base string, h hostileShape) (refusal, error) {
		return sendHTTP(ctx, http.MethodPost, base, h, "text/event-stream")
	}},
	{"WebSocket", sendWS},
}

func hostileParams(h hostileShape) (map[string]json.RawMessage, error) {
	p := map[string]json.RawMessage{}
	q, _ := json.Marshal(h.query)
	p["query"] = q
	if h.operation != "" {
		p["operationName"], _ = json.Marshal(h.operation)
	}
	switch {
	case h.rawVars != "":
		p["variables"] = json.RawMessage(h.rawVars)
	case h.vars != nil:
		v, err := json.Marshal(h.vars)
		if err != nil {
			return nil, err
		}
		p["variables"] = v
	}
	if h.ext != nil {
		e, err := json.Marshal(h.ext)
		if err != nil {
			return nil, err
		}
		p["extensions"] = e
	}
	return p, nil
}

func sendHTTP(ctx context.Context, method, base string, h hostileShape, accept string) (refusal, error) {
	params, err := hostileParams(h)
	if err != nil {
		return refusal{}, err
	}
	var req *http.Request
	if h.rawBody != "" {
		if method == http.MethodGet {
			req, err = http.NewRequestWithContext(ctx, method, base+"/graphql?"+url.Values{"query": {"{ __typename }"}, "variables": {h.rawBody}}.Encode(), nil)
		} else {
			req, err = http.NewRequestWithContext(ctx, method, base+"/graphql", strings.NewReader(h.rawBody))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
		}
	} else if method == http.MethodGet {
		q := url.Values{}
		for k, v := range params {
			var s string
			if k == "query" || k == "operationName" {
				_ = json.Unmarshal(v, &s)
			} else {
				s = string(v)
			}
			q.Set(k, s)
		}
		req, err = http.NewRequestWithContext(ctx, method, base+"/graphql?"+q.Encode(), nil)
	} else {
		body, _ := json.Marshal(params)
		req, err = http.NewRequestWithContext(ctx, method, base+"/graphql", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return refusal{}, err
	}
	req.Header.Set("Accept", accept)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return refusal{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	out := refusal{status: resp.StatusCode, size: len(body), elapsed: time.Since(start)}
	if err != nil {
		return out, err
	}
	if accept == "text/event-stream" && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// The first event's data is the answer.
		var data []byte
		for line := range bytes.SplitSeq(body, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				data = d
				break
			}
		}
		body = data
	}
	out.codes, err = errorCodes(body)
	return out, err
}

// errorCodes returns the extensions.code of each error of a GraphQL response; an error without one fails.
func errorCodes(body []byte) ([]string, error) {
	var r struct {
		Errors []gqlError `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %v: %.200s", err, body)
	}
	var codes []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		if c == "" {
			return nil, fmt.Errorf("an error has no code: %+v", e)
		}
		codes = append(codes, c)
	}
	return codes, nil
}

// sendWS subscribes with the shape over graphql-transport-ws on a connection of its own.
func sendWS(ctx context.Context, base string, h hostileShape) (refusal, error) {
	conn, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return refusal{}, err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20)
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		return refusal{}, err
	}
	var ack struct{ Type string }
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		return refusal{}, fmt.Errorf("connection_init answered %q, %v", ack.Type, err)
	}
	params, err := hostileParams(h)
	if err != nil {
		return refusal{}, err
	}
	start := time.Now()
	out := refusal{}
	msg, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": params})
	if h.rawBody != "" {
		msg = []byte(h.rawBody)
	}
	if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
		out.closed = err.Error()
		return out, nil
	}
	for {
		_, msg, err := conn.Read(ctx)
		out.elapsed = time.Since(start)
		if err != nil {
			if s := websocket.CloseStatus(err); s != -1 {
				out.closed = s.String()
				return out, nil
			}
			return out, err
		}
		out.size = len(msg)
		var m struct {
			Type    string
			Payload json.RawMessage
		}
		if err := json.Unmarshal(msg, &m); err != nil {
			return out, err
		}
		switch m.Type {
		case "ping", "pong":
			continue
		case "error":
			out.codes, err = errorCodes([]byte(`{"errors":` + string(m.Payload) + `}`))
		case "next":
			out.codes, err = errorCodes(m.Payload)
		default:
			err = fmt.Errorf("unexpected %s %.200s", m.Type, m.Payload)
		}
		return out, err
	}
}

// TestHostileRequestsAreRefusedFast sends each hostile shape over each transport: every one must be refused
// within a second with QUERY_TOO_COMPLEX or BAD_USER_INPUT (or 413/414, or a WebSocket closed for a message
// too big), in an answer of a few kilobytes.
func TestHostileRequestsAreRefusedFast(t *testing.T) {
	s := newTestServer(t)
	for _, tr := range hostileTransports {
		t.Run(tr.name, func(t *testing.T) {
			for _, h := range hostileShapes() {
				t.Run(h.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					r, err := tr.send(ctx, s.URL, h)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("status %d, codes %v, closed %q, %d bytes in %v", r.status, r.codes, r.closed, r.size, r.elapsed.Round(time.Microsecond))
					if !r.refused() {
						t.Errorf("answered status %d with codes %v (closed %q), want a refusal", r.status, r.codes, r.closed)
					}
					if r.elapsed > time.Second {
						t.Errorf("refused after %v, want under a second", r.elapsed.Round(time.Millisecond))
					}
					if len(r.codes) > 20 || r.size > 16<<10 {
						t.Errorf("the answer has %d errors in %d bytes, want at most 20 in 16 KiB", len(r.codes), r.size)
					}
				})
			}
		})
	}
}

// TestHostileRequestsKeepMemoryFlat sends the shapes that cost most before the limits, each 16 times at once,
// and samples the heap meanwhile, and the resident set's peak: each must stay within tens of megabytes of where it
// started. Before the
// limits, 16 requests of 3,000 aliases took the server past 22 GiB.
func TestHostileRequestsKeepMemoryFlat(t *testing.T) {
	s := newTestServer(t)
	worst := map[string]bool{"1,000 conflicting aliases": true, "700 conflicting aliases under the token limit": true,
		"aliases that conflict by field": true, "the most conflicts the limits allow": true, "7,000 duplicated fields": true, "duplicated fields nested": true,
		"fragments spreading one field with different arguments": true, "inline fragments": true, "directives": true,
		"string just under the query limit": true, "a long variable list": true, "100,000 small values": true,
		"malformed JSON of 200 KB": true}
	var shapes []hostileShape
	for _, h := range hostileShapes() {
		if worst[h.name] {
			shapes = append(shapes, h)
		}
	}
	if len(shapes) != len(worst) {
		t.Fatalf("found %d of the %d shapes", len(shapes), len(worst))
	}
	const concurrent = 16
	for _, h := range shapes {
		t.Run(h.name, func(t *testing.T) {
			var base runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&base)
			rss, measured := peakRSS()
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var m runtime.MemStats
				for {
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > peak.Load() {
						peak.Store(m.HeapAlloc)
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			errs := make(chan error, concurrent)
			for range concurrent {
				wg.Go(func() {
					r, err := sendHTTP(ctx, http.MethodPost, s.URL, h, "application/json")
					if err == nil && !r.refused() {
						err = fmt.Errorf("answered status %d with codes %v", r.status, r.codes)
					}
					if err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(stop)
			<-sampled
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			grew := int64(peak.Load()) - int64(base.HeapAlloc)
			t.Logf("heap grew by at most %d KiB", grew>>10)
			if grew > 48<<20 {
				t.Errorf("16 requests grew the heap by %d MiB, want under 48 MiB", grew>>20)
			}
			if measured {
				rose := rss()
				t.Logf("the resident set's peak rose by %d KiB", rose>>10)
				if rose > 96<<20 {
					t.Errorf("16 requests raised the resident set's peak by %d MiB, want under 96 MiB", rose>>20)
				}
			}
		})
	}
}

// TestHostileErrorsAreCapped: a valid query can fail many times (a list of 100 IDs that do not exist); its
// answer keeps 20 errors, the last of which says how many were left out.
func TestHostileErrorsAreCapped(t *testing.T) {
	s := newTestServer(t)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = cacheGlobalID("Comment", int64(1_000_000+i))
	}
	q := "{" + repeat(100, func(i int) string { return fmt.Sprintf(` n%d: node(id: %q) { id }`, i, ids[i][:len(ids[i])-1]+"!") }) + " }"
	r := s.do(t, "", q, nil)
	if len(r.Errors) != 20 {
		t.Fatalf("%d errors, want 20", len(r.Errors))
	}
	if last := r.Errors[19]; !strings.Contains(last.Message, "81 more errors") || last.Extensions["code"] == nil {
		t.Errorf("the last error: %+v", last)
	}
}
