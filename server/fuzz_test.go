package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"testing"
	"time"
)

// FuzzGraphQLRequest sends arbitrary query text, variables and extensions through the real server (every
// middleware, the cache, real SQLite), by POST or GET. Each request must be answered within a second,
// without growing the heap by more than 64 MiB or raising the resident set's peak by more than 128 MiB, with
// JSON whose errors each carry an extensions.code.
func FuzzGraphQLRequest(f *testing.F) {
	for _, h := range hostileShapes() {
		params, err := hostileParams(h)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h.query, string(params["variables"]), string(params["extensions"]), false)
	}
	for _, q := range []string{
		`{ article(site: "demo", key: "social-credit") { title comments(first: 5) { edges { cursor node { id body author { displayName } } } } } }`,
		`query($s: String!) { site(slug: $s) { slug } }`,
		`mutation { createReader(input: {site: "demo", displayName: "F"}) { token } }`,
		`{ __schema { types { name fields { name } } } }`,
		`subscription { commentEvents(articleId: "x") { kind } }`,
	} {
		f.Add(q, `{"s": "demo"}`, ``, false)
		f.Add(q, ``, `{"persistedQuery": {"version": 1, "sha256Hash": "abc"}}`, true)
	}
	s := newTestServer(f)
	client := &http.Client{Timeout: 10 * time.Second}

	f.Fuzz(func(t *testing.T, query, variables, extensions string, get bool) {
		var req *http.Request
		var err error
		if get {
			v := url.Values{"query": {query}}
			if variables != "" {
				v.Set("variables", variables)
			}
			if extensions != "" {
				v.Set("extensions", extensions)
			}
			req, err = http.NewRequest(http.MethodGet, s.URL+"/graphql?"+v.Encode(), nil)
		} else {
			q, _ := json.Marshal(query)
			body := `{"query":` + string(q)
			if variables != "" {
				body += `,"variables":` + variables
			}
			if extensions != "" {
				body += `,"extensions":` + extensions
			}
			req, err = http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader([]byte(body+"}")))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
		}
		if err != nil {
			t.Skip(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rss, measured := peakRSS()
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if elapsed > time.Second {
			t.Errorf("answered in %v", elapsed)
		}
		if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 64<<20 {
			t.Errorf("the heap grew by %d MiB", grew>>20)
		}
		if measured {
			if rose := rss(); rose > 128<<20 {
				t.Errorf("the resident set rose by %d MiB while the request was served", rose>>20)
			}
		}
		var r struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("status %d: the answer is not JSON: %v: %.300s", resp.StatusCode, err, body)
		}
		for _, e := range r.Errors {
			if c, _ := e.Extensions["code"].(string); c == "" {
				t.Errorf("status %d: an error without a code: %+v", resp.StatusCode, e)
			}
		}
		if len(r.Errors) > 20 {
			t.Errorf("%d errors", len(r.Errors))
		}
	})
}
