package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestInternalErrorsHideTheirCause breaks the database under a running server: clients get INTERNAL with a
// generic message (and the request ID to report), never the cause, and /healthz says the server cannot serve.
func TestInternalErrorsHideTheirCause(t *testing.T) {
	s := newTestServer(t)
	if err := s.DB.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token, query string }{
		{"query", "", `{ article(site: "demo", key: "social-credit") { title } }`},
		{"query with a token", "tl_whatever", `{ site(slug: "demo") { name } }`},
		{"mutation", "", `mutation { createReader(input: {site: "demo", displayName: "X"}) { token } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.token, tc.query, nil)
			if r.code() != "INTERNAL" {
				t.Fatalf("code %q, want INTERNAL: %+v", r.code(), r.Errors)
			}
			for _, e := range r.Errors {
				if e.Message != "internal error" || strings.Contains(strings.ToLower(e.Message), "sql") {
					t.Errorf("message %q leaks more than 'internal error'", e.Message)
				}
			}
		})
	}
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthz answered %d with the database closed, want 503", resp.StatusCode)
	}
}
