package server

import (
	"net/http"
	"testing"

	"github.com/threadline/threadline/thread"
)

// TestStatusOfEveryCode: every documented code has its own status, and anything else is a server error.
func TestStatusOfEveryCode(t *testing.T) {
	for code, want := range map[thread.Code]int{
		thread.CodeInvalid:         http.StatusBadRequest,
		thread.CodeTooComplex:      http.StatusBadRequest,
		thread.CodeUnauthenticated: http.StatusUnauthorized,
		thread.CodeForbidden:       http.StatusForbidden,
		thread.CodeNotFound:        http.StatusNotFound,
		thread.CodeConflict:        http.StatusConflict,
		thread.CodeRateLimited:     http.StatusTooManyRequests,
		thread.CodeInternal:        http.StatusInternalServerError,
		"SOMETHING_NEW":            http.StatusInternalServerError,
	} {
		if got := statusOf(code); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}
