package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecoverPanics checks the last line of defence: a handler that panics answers 500 with a GraphQL-shaped
// INTERNAL error that says nothing of the panic, and the log has the panic with the request ID.
func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := requestID(recoverPanics(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret detail")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/anything", nil))

	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
	var body struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	if e := body.Errors[0]; e.Extensions.Code != "INTERNAL" || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("error %+v: want INTERNAL without the panic's detail", e)
	}
	id := rec.Header().Get("X-Request-Id")
	if id == "" || !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "secret detail") {
		t.Errorf("log %q lacks the request ID %q or the panic", logs.String(), id)
	}
}

// TestRecoverPanicsLetsAbortsThrough keeps http.ErrAbortHandler, which net/http uses to cut a response short
// on purpose, out of the recovery.
func TestRecoverPanicsLetsAbortsThrough(t *testing.T) {
	h := recoverPanics(slog.New(slog.DiscardHandler), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler to propagate", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	t.Error("the abort did not propagate")
}
