package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
)

// jsonLog is a JSON log destination tests read while the server writes to it.
type jsonLog struct{ logBuffer }

// lines returns the JSON log lines with the message msg.
func (b *jsonLog) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestRoutesOutsideGraphQLAnswerTheirErrorsStatus: /export answers each refusal with the status of its code,
// and a failure of the database with 500 INTERNAL, "internal error" and nothing more, and a log line with the
// request's ID; so does the thread page when a first embed fails for the same reason.
func TestRoutesOutsideGraphQLAnswerTheirErrorsStatus(t *testing.T) {
	ctx := context.Background()
	db, svc := teststore.Open(t)
	if _, err := seed.Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	key, err := svc.AddModeratorKey(ctx, "demo", "owner")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := svc.CreateSite(ctx, "other", thread.SiteSettings{Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	_, readerToken, err := svc.CreateReader(ctx, "demo", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	logs := &jsonLog{}
	hs := httptest.NewServer(server.New(svc, server.Options{Log: slog.New(slog.NewJSONHandler(logs, nil)), Health: db.Ping}))
	defer hs.Close()

	for _, tc := range []struct {
		name, path, token string
		status            int
		code              thread.Code
	}{
		{"the site's moderator", "/export?site=demo", key, http.StatusOK, ""},
		{"no token", "/export?site=demo", "", http.StatusUnauthorized, thread.CodeUnauthenticated},
		{"a reader", "/export?site=demo", readerToken, http.StatusForbidden, thread.CodeForbidden},
		{"another site's", "/export?site=other", key, http.StatusForbidden, thread.CodeForbidden},
		{"no such site", "/export?site=nowhere", key, http.StatusNotFound, thread.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, http.MethodGet, hs.URL+tc.path, map[string]string{"Authorization": "Bearer " + tc.token}, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" && !strings.Contains(string(r.body), `"code":"`+string(tc.code)+`"`) {
				t.Errorf("body %s, want the code %s", r.body, tc.code)
			}
		})
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, token string }{
		{"export", "/export?site=demo", key},
		{"export, anonymous", "/export?site=demo", ""},
		{"a first embed", "/embed/thread?site=demo&article=new&url=https://demo.example/new", ""},
	} {
		t.Run("broken database: "+tc.name, func(t *testing.T) {
			const id = "req-broken-db-1"
			header := map[string]string{"X-Request-Id": id}
			if tc.token != "" {
				header["Authorization"] = "Bearer " + tc.token
			}
			before := len(logs.lines("internal error"))
			r := fetch(t, http.MethodGet, hs.URL+tc.path, header, nil)
			if strings.HasPrefix(tc.path, "/export") {
				if r.status != http.StatusInternalServerError || !strings.Contains(string(r.body), `"code":"INTERNAL"`) || !strings.Contains(string(r.body), `"message":"internal error"`) {
					t.Errorf("status %d: %s; want 500 INTERNAL, internal error", r.status, r.body)
				}
				if strings.Contains(string(r.body), "closed") || strings.Contains(string(r.body), "sql") {
					t.Errorf("the answer leaks the cause: %s", r.body)
				}
			}
			lines := logs.lines("internal error")
			if len(lines) <= before || lines[len(lines)-1]["request_id"] != id || !strings.Contains(lines[len(lines)-1]["err"].(string), "closed") {
				t.Errorf("no log line of the internal error with its request ID and cause: %v", lines)
			}
		})
	}
	if r := fetch(t, http.MethodGet, hs.URL+"/healthz", nil, nil); r.status != http.StatusServiceUnavailable || len(logs.lines("unhealthy")) == 0 {
		t.Errorf("/healthz answered %d, logged %v", r.status, logs.lines("unhealthy"))
	}
}
