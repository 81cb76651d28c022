package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/threadline/threadline/internal/teststore"
)

// TestMetrics: /metrics counts requests by route, GraphQL operations by name, errors by code, live
// subscribers and the database pools, in Prometheus's text format; and holds nothing about a client.
func TestMetrics(t *testing.T) {
	s := newTestServer(t)
	s.mustDo(t, "", `query Thread { article(site: "demo", key: "social-credit") { commentCount } }`, nil, nil)
	expectError(t, s.do(t, "", `{ nope }`, nil), "BAD_USER_INPUT")
	ws := s.dialWS(t, "")
	ws.subscribe(t, "1", eventsQuery, map[string]any{"a": s.articleID(t)})
	ws.quiet(t)
	for i := range 205 { // more operation names than /metrics tells apart
		s.mustDo(t, "", fmt.Sprintf("query Q%d { viewer { id } }", i), nil, nil)
	}

	r := s.raw(t, http.MethodGet, "/metrics", map[string]string{"X-Forwarded-For": "198.51.100.23"}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("/metrics answered %d", r.status)
	}
	text := string(r.body)
	wants := []string{
		`threadline_http_requests_total{code="200",method="POST",route="/graphql"}`,
		`threadline_http_request_duration_seconds_bucket{route="/graphql",le="0.1"}`,
		`threadline_graphql_operations_total{name="Thread",type="query"} 1`,
		`threadline_graphql_operations_total{name="other",type="query"}`,
		`threadline_graphql_operations_total{name="anonymous",type="subscription"} 1`,
		`threadline_graphql_errors_total{code="BAD_USER_INPUT"} 1`,
		`threadline_live_subscribers 1`,
		`threadline_live_dropped_total 0`,
		`go_goroutines`,
	}
	if s.DB.Engine == teststore.SQLite {
		// SQLite's database/sql pools. PostgreSQL's pgxpool is not among the server's Options.Pools (a
		// map of *sql.DB), so /metrics does not show it yet.
		wants = append(wants, `go_sql_open_connections{db_name="read"}`)
	}
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if n := strings.Count(text, "threadline_graphql_operations_total{name=\"Q"); n > 200 {
		t.Errorf("/metrics tells %d operation names apart", n)
	}
	for _, private := range []string{"127.0.0.1", "198.51.100.23", "social-credit"} {
		if strings.Contains(text, private) {
			t.Errorf("/metrics holds %q", private)
		}
	}
	if r := s.raw(t, http.MethodGet, "/readyz", nil, nil); r.status != http.StatusOK {
		t.Errorf("/readyz answered %d", r.status)
	}
}
