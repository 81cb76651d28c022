package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/threadline/threadline/thread"
)

// presentError gives every error a code from the documented set in extensions.code. Internal errors are logged
// with the request ID and replaced by a generic message.
func presentError(log *slog.Logger, requestID func(context.Context) string) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		code, _ := gqlErr.Extensions["code"].(string)
		var domainErr *thread.Error
		switch {
		case errors.As(err, &domainErr):
			gqlErr.Message = thread.ErrorMessage(domainErr)
			setCode(gqlErr, domainErr.Code)
			if domainErr.RetryAfter > 0 {
				gqlErr.Extensions["retryAfter"] = int(domainErr.RetryAfter.Seconds()) // seconds, as in HTTP's Retry-After
			}
			if (domainErr.Code == thread.CodeInternal || domainErr.Err != nil) && domainErr != errRecovered {
				logInternal(ctx, log, requestID, domainErr)
			}
		case code == codePersistedQueryNotFound || code == string(thread.CodeTooComplex):
		case code == "COMPLEXITY_LIMIT_EXCEEDED":
			setCode(gqlErr, thread.CodeTooComplex)
		case isProtocolError(err):
			// Parse, validation and variable errors: the client sent something the schema does not accept.
			setCode(gqlErr, thread.CodeInvalid)
		default:
			logInternal(ctx, log, requestID, err)
			gqlErr.Message = thread.ErrorMessage(err)
			gqlErr.Extensions = nil
			setCode(gqlErr, thread.CodeInternal)
		}
		return gqlErr
	}
}

// isProtocolError reports an error gqlgen raised itself while reading the request (it wraps no cause), as
// opposed to one a resolver returned.
func isProtocolError(err error) bool {
	var gqlErr *gqlerror.Error
	return errors.As(err, &gqlErr) && gqlErr.Err == nil
}

func setCode(e *gqlerror.Error, code thread.Code) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = string(code)
}

func logInternal(ctx context.Context, log *slog.Logger, requestID func(context.Context) string, err error) {
	log.ErrorContext(ctx, "graphql internal error", "request_id", requestID(ctx), "err", err)
}

// errRecovered is what a resolver's panic becomes once recoverPanics has logged it.
var errRecovered = &thread.Error{Code: thread.CodeInternal, Message: "internal error"}

// recoverPanics turns a resolver's panic into an internal error. It logs the panic itself, with the request ID
// and the stack, because on a WebSocket gqlgen sends a subscription's recovered error to the client as it is,
// without the presenter: the error it returns says "internal error" and nothing else.
func recoverPanics(log *slog.Logger, requestID func(context.Context) string) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql resolver panicked", "request_id", requestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &gqlerror.Error{Message: errRecovered.Message, Err: errRecovered,
			Extensions: map[string]any{"code": string(thread.CodeInternal)}}
	}
}
