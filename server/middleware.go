package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/threadline/threadline/graph"
	"github.com/threadline/threadline/thread"
)

type requestIDKey struct{}

// RequestID returns the ID of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID gives every request an ID, returned in X-Request-Id and written in every log line about it. An ID
// set by a proxy in front is kept if it is short and plain.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !plainID(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// responseRecorder passes a response through, remembering its status and size and, when keep > 0, a copy of
// its body up to keep bytes.
type responseRecorder struct {
	http.ResponseWriter
	status     int
	bytes      int
	keep       int
	body       bytes.Buffer
	overflowed bool
}

func (r *responseRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.keep > 0 && !r.overflowed {
		if r.body.Len()+len(b) > r.keep {
			r.overflowed = true
			r.body = bytes.Buffer{}
		} else {
			r.body.Write(b)
		}
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing, deadlines).
func (r *responseRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush and Hijack pass through, for Server-Sent Events and WebSocket, whose libraries ask for them directly.
func (r *responseRecorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

func (r *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// logRequests writes one line per request, and counts it in the metrics: method, path, status, size, duration
// and request ID. Never the
// client's address, user agent or query string: Threadline keeps nothing that identifies a reader, logs
// included.
func logRequests(log *slog.Logger, m *metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &responseRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		m.request(r, rec.status, time.Since(start))
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", RequestID(r.Context())),
		)
	})
}

// recoverPanics answers 500 for a handler that panicked, and logs the panic with the request ID.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				writeGraphQLError(w, http.StatusInternalServerError, thread.CodeInternal, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// cors opens the API to pages on any origin. That is safe because Threadline uses no cookies: a request carries
// a reader's identity only when the page that sends it holds the reader's token.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "X-Request-Id")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// streaming reports whether a request opens a stream of live events: a WebSocket, or Server-Sent Events.
func streaming(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// streams lifts the server's read and write deadlines from streaming requests, which last as long as the
// subscriber stays, and lets a Server-Sent Events subscription end its own request.
func streams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !streaming(r) {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		ctx, cancel := graph.WithStream(r.Context())
		defer cancel(nil)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// graphQLRequests refuses, with a GraphQL-shaped error, the requests no GraphQL transport takes: methods other
// than GET and POST, and POST bodies that are not JSON.
func graphQLRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost:
			if mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType != "application/json" {
				writeGraphQLError(w, http.StatusUnsupportedMediaType, thread.CodeInvalid, "send GraphQL requests as application/json")
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeGraphQLError(w, http.StatusMethodNotAllowed, thread.CodeInvalid, "use GET for queries or POST for any operation")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over max bytes: at once when Content-Length says so, or when reading passes it.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, thread.CodeInvalid,
				fmt.Sprintf("the request body is larger than the limit of %d bytes", max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// clientAddress passes the client's address to the domain, for rate limits, which keep it in memory only. It
// is never logged or stored. Behind a trusted proxy it is the last address of X-Forwarded-For, the one the
// proxy itself saw (earlier entries are whatever the client claimed).
func clientAddress(trustProxy bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if trustProxy {
			if list := r.Header.Values("X-Forwarded-For"); len(list) > 0 {
				entries := strings.Split(list[len(list)-1], ",")
				if last := strings.TrimSpace(entries[len(entries)-1]); net.ParseIP(last) != nil {
					host = last
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(thread.WithClient(r.Context(), clientKey(host))))
	})
}

// clientKey is what rate limits count a client address as: an IPv4 address as it is, an IPv6 address by its
// /64 network, which is what one subscriber or one server is given: counting each IPv6 address apart would give
// anyone 2^64 fresh budgets.
func clientKey(host string) string {
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

// authenticate resolves the bearer token, if any, to who makes the request: a reader, a site's signed-in
// user, or a site's moderator key. A request without a token is anonymous; one with a bad token reads as
// anonymous too, but whatever needs a reader answers UNAUTHENTICATED with the reason. (WebSocket connections
// carry their token in connection_init, which graph reads with the same AuthenticateHeader.)
func authenticate(svc *thread.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := svc.AuthenticateHeader(r.Context(), r.Header.Get("Authorization")) // a refusal travels in ctx
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withLoaders gives each request its own dataloaders, so that nothing is cached across requests or readers.
func withLoaders(svc *thread.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(graph.WithLoaders(r.Context(), svc)))
	})
}
