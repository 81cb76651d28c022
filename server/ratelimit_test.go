package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
)

// TestRateLimits posts faster than the default limits allow, through the real server: the excess is refused
// with RATE_LIMITED and the seconds to wait, nothing of it is stored, and readers do not share their limits.
func TestRateLimits(t *testing.T) {
	s := newTestServer(t)
	s.Svc.SetRateLimits(thread.DefaultRateLimits)
	article := s.articleID(t)

	// New readers: a burst of 5 from one address, then refused.
	var tokens []string
	for i := range thread.DefaultRateLimits.ReaderBurst {
		_, token := s.newReader(t, fmt.Sprint("Reader ", i))
		tokens = append(tokens, token)
	}
	r := s.do(t, "", `mutation { createReader(input: {site: "demo", displayName: "One too many"}) { token } }`, nil)
	if r.code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"] == nil {
		t.Fatalf("the 6th reader: %+v", r.Errors)
	}

	// Comments: a burst of 5 per reader, then refused; another reader may still post.
	for i := range thread.DefaultRateLimits.CommentBurst {
		s.addComment(t, tokens[0], article, "", fmt.Sprint("comment ", i))
	}
	const add = `mutation($a: ID!) { addComment(input: {articleId: $a, body: "one too many"}) { comment { id } } }`
	r = s.do(t, tokens[0], add, map[string]any{"a": article})
	if r.code() != "RATE_LIMITED" {
		t.Fatalf("the 6th comment: %+v", r.Errors)
	}
	if secs, _ := r.Errors[0].Extensions["retryAfter"].(float64); secs < 1 || secs > 10 {
		t.Errorf("retryAfter %v s, want the 10 s until the next comment", r.Errors[0].Extensions["retryAfter"])
	}
	s.addComment(t, tokens[1], article, "", "another reader's comment")

	var data struct{ Article struct{ CommentCount int } }
	s.mustDo(t, "", `{ article(site: "demo", key: "social-credit") { commentCount } }`, nil, &data)
	if data.Article.CommentCount != 45+thread.DefaultRateLimits.CommentBurst+1 {
		t.Errorf("commentCount %d: a refused comment was stored", data.Article.CommentCount)
	}
}

// TestTrustProxy: behind a trusted proxy, readers are limited by the address the proxy saw; otherwise a client
// cannot escape its limit by claiming other addresses in X-Forwarded-For.
func TestTrustProxy(t *testing.T) {
	create := `{"query": "mutation { createReader(input: {site: \"demo\", displayName: \"Someone\"}) { token } }"}`
	burst := thread.DefaultRateLimits.ReaderBurst
	for _, tc := range []struct {
		trust bool
		// forwarded is the X-Forwarded-For of request i; refused says whether the request after the burst is.
		forwarded func(i int) string
		refused   bool
	}{
		{trust: true, forwarded: func(i int) string { return "198.51.100.1" }, refused: true},
		{trust: true, forwarded: func(i int) string { return fmt.Sprintf("203.0.113.9, 198.51.100.%d", i+1) }, refused: false},
		{trust: false, forwarded: func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }, refused: true},
	} {
		s := newTestServerWith(t, server.Options{TrustProxy: tc.trust})
		s.Svc.SetRateLimits(thread.DefaultRateLimits)
		var last *gqlResponse
		for i := range burst + 1 {
			header := map[string]string{"Content-Type": "application/json", "X-Forwarded-For": tc.forwarded(i)}
			last = s.raw(t, http.MethodPost, "/graphql", header, strings.NewReader(create)).gql(t)
		}
		if got := last.code() == "RATE_LIMITED"; got != tc.refused {
			t.Errorf("trust %v, X-Forwarded-For %q...: request %d refused %v, want %v", tc.trust, tc.forwarded(0), burst+1, got, tc.refused)
		}
	}
}
