package graph

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/threadline/threadline/thread"
)

// TestPresentError checks that every kind of error leaves with a documented code, and that nothing about an
// internal failure but its request ID reaches the client.
func TestPresentError(t *testing.T) {
	var logs bytes.Buffer
	present := presentError(slog.New(slog.NewTextHandler(&logs, nil)), func(context.Context) string { return "req-42" })
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)

	for _, tc := range []struct {
		name        string
		err         error
		code        string
		message     string // "" to skip
		logged      bool
		notInClient string // a detail that must not reach the client
	}{
		{"domain error", thread.Errorf(thread.CodeForbidden, "not yours"), "FORBIDDEN", "not yours", false, ""},
		{"domain error from a resolver", gqlerror.WrapPath(nil, thread.Errorf(thread.CodeNotFound, "gone")), "NOT_FOUND", "gone", false, ""},
		{"internal domain error", &thread.Error{Code: thread.CodeInternal, Message: "disk", Err: errors.New("sqlite: disk I/O error")}, "INTERNAL", "internal error", true, "sqlite"},
		{"untyped error", errors.New("sql: database is closed"), "INTERNAL", "internal error", true, "database is closed"},
		{"parse error", &gqlerror.Error{Message: "Expected Name", Extensions: map[string]any{"code": "GRAPHQL_PARSE_FAILED"}}, "BAD_USER_INPUT", "Expected Name", false, ""},
		{"validation error", &gqlerror.Error{Message: "Cannot query field", Rule: "FieldsOnCorrectType"}, "BAD_USER_INPUT", "", false, ""},
		{"complexity", &gqlerror.Error{Message: "too complex", Extensions: map[string]any{"code": "COMPLEXITY_LIMIT_EXCEEDED"}}, "QUERY_TOO_COMPLEX", "", false, ""},
		{"depth", &gqlerror.Error{Message: "too deep", Extensions: map[string]any{"code": "QUERY_TOO_COMPLEX"}}, "QUERY_TOO_COMPLEX", "", false, ""},
		{"persisted query", &gqlerror.Error{Message: "PersistedQueryNotFound", Extensions: map[string]any{"code": "PERSISTED_QUERY_NOT_FOUND"}}, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			got := present(ctx, tc.err)
			if code, _ := got.Extensions["code"].(string); code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
			if tc.message != "" && got.Message != tc.message {
				t.Errorf("message %q, want %q", got.Message, tc.message)
			}
			if tc.notInClient != "" && strings.Contains(got.Message+strings.Join(mapValues(got.Extensions), " "), tc.notInClient) {
				t.Errorf("the client sees %q: %+v", tc.notInClient, got)
			}
			if logged := logs.Len() > 0; logged != tc.logged {
				t.Errorf("logged = %v, want %v: %s", logged, tc.logged, logs.String())
			}
			if tc.logged && (!strings.Contains(logs.String(), "req-42") || !strings.Contains(logs.String(), tc.notInClient)) {
				t.Errorf("the log lacks the request ID or the cause: %s", logs.String())
			}
		})
	}
}

// TestRecoveredPanicsAreLoggedOnce: a resolver's panic is logged with its cause, stack and request ID where it
// is recovered, and what reaches a client (through the presenter over HTTP, as it is over a WebSocket) is
// "internal error" with the code INTERNAL and nothing of the cause.
func TestRecoveredPanicsAreLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	requestID := func(context.Context) string { return "req-7" }
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)

	err := recoverPanics(log, requestID)(ctx, "nil map write in resolver")
	if l := logs.String(); !strings.Contains(l, "nil map write") || !strings.Contains(l, "req-7") || !strings.Contains(l, "errors_test.go") {
		t.Errorf("the log lacks the cause, the request ID or the stack: %s", l)
	}
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) || gqlErr.Message != "internal error" || gqlErr.Extensions["code"] != "INTERNAL" {
		t.Errorf("a WebSocket client would see %#v", err)
	}
	if strings.Contains(err.Error(), "nil map") || strings.Contains(err.Error(), "goroutine") {
		t.Errorf("the error carries the cause: %q", err.Error())
	}
	logs.Reset()
	got := presentError(log, requestID)(ctx, err)
	if got.Message != "internal error" || got.Extensions["code"] != "INTERNAL" {
		t.Errorf("presented as %+v", got)
	}
	if logs.Len() > 0 {
		t.Errorf("logged twice: %s", logs.String())
	}
}

func mapValues(m map[string]any) []string {
	var out []string
	for k, v := range m {
		if s, ok := v.(string); ok {
			out = append(out, k+"="+s)
		}
	}
	return out
}
