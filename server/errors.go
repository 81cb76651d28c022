package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/threadline/threadline/thread"
)

// statusOf is the HTTP status of each error code, for the routes that answer outside GraphQL (whose responses
// carry the code in extensions and follow GraphQL-over-HTTP). A code it does not know is our fault: 500.
func statusOf(code thread.Code) int {
	switch code {
	case thread.CodeInvalid, thread.CodeTooComplex:
		return http.StatusBadRequest
	case thread.CodeUnauthenticated:
		return http.StatusUnauthorized
	case thread.CodeForbidden:
		return http.StatusForbidden
	case thread.CodeNotFound:
		return http.StatusNotFound
	case thread.CodeConflict:
		return http.StatusConflict
	case thread.CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// writeError answers a request outside GraphQL that failed with err: the status of its code, the same error
// shape as the GraphQL endpoint's, Retry-After when it is rate limited. An internal error is logged with the
// request's ID, which the client has in X-Request-Id, and shown only as "internal error".
func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	code := thread.ErrorCode(err)
	if code == thread.CodeInternal {
		logInternal(log, r, err)
	}
	var e *thread.Error
	if code == thread.CodeRateLimited && errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeGraphQLError(w, statusOf(code), code, thread.ErrorMessage(err))
}

// logInternal logs an internal error of a request with its ID, so that a client's report of "internal error"
// and its X-Request-Id lead to the cause.
func logInternal(log *slog.Logger, r *http.Request, err error) {
	log.ErrorContext(r.Context(), "internal error", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
}
