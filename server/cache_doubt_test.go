package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestCacheInDoubtServesStaleOnlyIfError: while the cache is in doubt (it may have missed another server's
// write), a cached answer is not served as is: the request runs, and its answer is served, unless it is a
// failure of the server (a 5xx, an INTERNAL error: the database out of reach), when the cached answer is,
// marked stale-if-error. Nothing is stored meanwhile; once the doubt clears, hits are served from memory again.
func TestCacheInDoubtServesStaleOnlyIfError(t *testing.T) {
	const cached = `{"data":{"article":{"comments":["old"]}}}`
	tests := []struct {
		name       string
		status     int // the origin's answer while in doubt
		body       string
		wantBody   string
		wantStatus int
		wantCache  string
	}{
		{"the database answers", 200, `{"data":{"article":{"comments":["new","old"]}}}`,
			`{"data":{"article":{"comments":["new","old"]}}}`, 200, "threadline; fwd=stale"},
		{"INTERNAL", 200, `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}],"data":null}`,
			cached, 200, "threadline; hit; detail=stale-if-error"},
		{"INTERNAL beside other errors", 200, `{"errors":[{"message":"no","extensions":{"code":"NOT_FOUND"}},{"message":"internal error","extensions":{"code":"INTERNAL"}}],"data":null}`,
			cached, 200, "threadline; hit; detail=stale-if-error"},
		{"503", 503, `{"errors":[{"message":"unavailable"}]}`,
			cached, 200, "threadline; hit; detail=stale-if-error"},
		{"a client's error is an answer", 200, `{"errors":[{"message":"no such article","extensions":{"code":"NOT_FOUND"}}],"data":null}`,
			`{"errors":[{"message":"no such article","extensions":{"code":"NOT_FOUND"}}],"data":null}`, 200, "threadline; fwd=stale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inDoubt atomic.Bool
			var calls atomic.Int64
			status, body := 200, cached
			origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				io.WriteString(w, body)
			})
			c := newResponseCache(1<<20, 1<<16)
			c.inDoubt = inDoubt.Load
			h := c.middleware(origin)
			get := func(query string) *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphql?query="+query, nil))
				return rec
			}
			expect := func(what string, rec *httptest.ResponseRecorder, code int, body, cache string) {
				t.Helper()
				if rec.Code != code || rec.Body.String() != body || rec.Header().Get("Cache-Status") != cache {
					t.Errorf("%s: %d %q (Cache-Status %q), want %d %q (%q)", what, rec.Code, rec.Body, rec.Header().Get("Cache-Status"), code, body, cache)
				}
			}
			expect("first read", get("thread"), 200, cached, "threadline; fwd=miss")
			expect("second read", get("thread"), 200, cached, "threadline; hit")
			if n := calls.Load(); n != 1 {
				t.Fatalf("the origin was asked %d times, want once", n)
			}

			inDoubt.Store(true)
			status, body = tt.status, tt.body
			expect("in doubt", get("thread"), tt.wantStatus, tt.wantBody, tt.wantCache)
			if n := calls.Load(); n != 2 {
				t.Errorf("in doubt, the origin was asked %d times, want twice", n)
			}
			// A miss in doubt answers as the origin does, and is not kept.
			status, body = 200, `{"data":{"other":1}}`
			expect("a miss in doubt", get("other"), 200, body, "threadline; fwd=miss")
			expect("the same miss in doubt", get("other"), 200, body, "threadline; fwd=miss")
			// The fresh answer in doubt was not stored either: the cached one stays until a change drops it.
			inDoubt.Store(false)
			expect("out of doubt", get("thread"), 200, cached, "threadline; hit")
			expect("a miss out of doubt", get("other"), 200, body, "threadline; fwd=miss")
			expect("a hit out of doubt", get("other"), 200, body, "threadline; hit")
			if n := calls.Load(); n != 5 {
				t.Errorf("the origin was asked %d times, want 5", n)
			}
		})
	}
}
