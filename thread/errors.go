package thread

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for clients. The values are part of the public API: the GraphQL layer copies them
// into extensions.code, and the HTTP layer maps them to status codes. They never change meaning.
type Code string

// The documented error codes. Every error a client can cause carries one of them.
const (
	CodeInvalid         Code = "BAD_USER_INPUT"    // the request is malformed or a value is out of range
	CodeUnauthenticated Code = "UNAUTHENTICATED"   // a reader token is needed, or the one given is unknown
	CodeForbidden       Code = "FORBIDDEN"         // the reader may not do this
	CodeNotFound        Code = "NOT_FOUND"         // the object does not exist or is not visible
	CodeRateLimited     Code = "RATE_LIMITED"      // too many requests; retry later
	CodeTooComplex      Code = "QUERY_TOO_COMPLEX" // the query exceeds the depth or cost limit
	CodeConflict        Code = "CONFLICT"          // the write conflicts with the current state
	CodeInternal        Code = "INTERNAL"          // our fault; details are logged, never shown
)

// Error is an error a client may see: a code and a message written for the client. The cause, if any,
// stays private to logs.
type Error struct {
	Code    Code
	Message string
	Err     error
	// RetryAfter is, for CodeRateLimited, how long to wait before trying again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted client message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or CodeInternal for anything else.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client message of err. Internal errors get a generic message so that no detail of
// the server leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "internal error"
}
