package graph

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"

	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/thread"
)

// LiveOptions bound live subscriptions.
type LiveOptions struct {
	Bus live.Bus
	// PerConnection and PerClient bound the subscriptions open at once on one WebSocket connection and from one
	// client address.
	PerConnection, PerClient int
	// IdleTimeout closes a WebSocket connection that has had no subscription for that long.
	IdleTimeout time.Duration
	// InitTimeout closes a WebSocket connection that has not sent connection_init for that long (4408).
	InitTimeout time.Duration
	// PendingPerClient bounds the WebSocket connections of one client address not yet acknowledged; more are
	// refused with 429 before the upgrade.
	PendingPerClient int
	// OperationsPerConnection bounds the operations running at once on one WebSocket connection; 0: twice
	// PerConnection, room for as many queries as subscriptions.
	OperationsPerConnection int
	// RecheckInterval is how often the credentials of live connections are checked again even when nothing
	// said they changed: a backstop for changes made where no hook sees them. Negative: never.
	RecheckInterval time.Duration
}

// Defaults for LiveOptions. A reader's page needs one subscription; the per-address default leaves room for a
// newsroom or a carrier's NAT behind one address, while bounding what one anonymous address can hold (an idle
// subscriber costs the server some tens of KB: 1,000 cost tens of MB). The fan-out benchmark, which runs from
// one address, raises it with --subscriptions-per-client.
const (
	DefaultSubscriptionsPerConnection = 10
	DefaultSubscriptionsPerClient     = 1_000
	DefaultIdleTimeout                = 5 * time.Minute
	DefaultRecheckInterval            = time.Minute
)

// subscriptions counts open subscriptions per client address.
type subscriptions struct {
	opts  LiveOptions
	watch *credentialWatch

	mu       sync.Mutex
	byClient map[string]int
}

// connKey marks a context as a WebSocket connection's, with the state subscriptions share.
type connKey struct{}

// connection is an acknowledged WebSocket connection: its count of subscriptions, its credentials, and its end.
type connection struct {
	socket *socket
	cancel context.CancelCauseFunc
	watch  *watched // its credentials, nil for an anonymous connection

	mu     sync.Mutex
	open   int
	idle   *time.Timer
	closed bool // the idle timer is not to start again
}

// errIdle and errBehind say why the server closed a connection; errRevoked why its operations ended.
var (
	errIdle    = errors.New("closed: no subscription for too long")
	errBehind  = errors.New("closed: the subscriber fell behind; reconnect and subscribe with `after` to catch up")
	errRevoked = errors.New("closed: its credentials no longer hold")
	errClosed  = errors.New("closed")
)

// end closes the connection with code and why, and ends its operations.
func (c *connection) end(code websocket.StatusCode, why error) {
	reason := why.Error()
	if code == closeForbidden {
		reason = reasonForbidden
	}
	c.socket.closeWith(code, reason)
	c.cancel(why)
}

// initConnection authenticates a WebSocket connection from its connection_init payload (`Authorization:
// Bearer TOKEN`, as the HTTP header would carry it), starts its idle timer, and has its credentials watched
// while it lasts. Refused credentials close it with 4403.
func (l *subscriptions) initConnection(svc *thread.Service) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		s := socketOf(ctx)
		if s == nil {
			return refused(ctx), nil, errors.New("no socket")
		}
		for _, key := range []string{"Authorization", "authorization"} {
			if v, ok := payload[key]; ok {
				if _, text := v.(string); !text {
					return refused(ctx), nil, errors.New("the Authorization of connection_init must be a string")
				}
			}
		}
		header := payload.Authorization()
		since := l.watch.changes()
		authenticated, err := svc.AuthenticateHeader(ctx, header)
		if err != nil {
			return refused(ctx), nil, errors.New(thread.ErrorMessage(err))
		}
		ctx, cancel := context.WithCancelCause(authenticated)
		c := &connection{socket: s, cancel: cancel}
		c.idle = time.AfterFunc(l.opts.IdleTimeout, func() { c.end(websocket.StatusNormalClosure, errIdle) })
		c.watch = l.watch.add(header, thread.GrantOf(authenticated), thread.AcceptedUntil(authenticated), since,
			func() { c.end(closeForbidden, errRevoked) })
		s.whenReleased(func() {
			c.mu.Lock()
			c.closed = true
			c.idle.Stop()
			c.mu.Unlock()
			cancel(errClosed)
			l.watch.remove(c.watch)
		})
		return context.WithValue(ctx, connKey{}, c), nil, nil
	}
}

// refused is the context gqlgen closes a refused connection with: 4403, as graphql-transport-ws asks.
func refused(ctx context.Context) context.Context {
	return transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, reasonForbidden), closeForbidden)
}

// acquire counts a new subscription against the limits, and returns the function that uncounts it.
func (l *subscriptions) acquire(ctx context.Context) (func(), error) {
	c, _ := ctx.Value(connKey{}).(*connection)
	if c != nil {
		c.mu.Lock()
		if c.open >= l.opts.PerConnection {
			c.mu.Unlock()
			return nil, thread.Errorf(thread.CodeRateLimited, "a connection may hold %d subscriptions at once", l.opts.PerConnection)
		}
		c.open++
		c.idle.Stop()
		c.mu.Unlock()
	}
	client := thread.Client(ctx)
	l.mu.Lock()
	if l.byClient[client] >= l.opts.PerClient {
		l.mu.Unlock()
		if c != nil {
			c.release(l.opts.IdleTimeout)
		}
		return nil, thread.Errorf(thread.CodeRateLimited, "your address holds %d subscriptions, the most it may", l.opts.PerClient)
	}
	l.byClient[client]++
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		if l.byClient[client]--; l.byClient[client] <= 0 {
			delete(l.byClient, client)
		}
		l.mu.Unlock()
		if c != nil {
			c.release(l.opts.IdleTimeout)
		}
	}, nil
}

func (c *connection) release(idle time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open--; c.open == 0 && !c.closed {
		c.idle.Reset(idle)
	}
}

// dropConnection ends the connection (WebSocket) or the request (Server-Sent Events) a subscription runs on.
func dropConnection(ctx context.Context) {
	if c, ok := ctx.Value(connKey{}).(*connection); ok {
		c.end(websocket.StatusNormalClosure, errBehind)
		return
	}
	if cancel, ok := ctx.Value(streamKey{}).(context.CancelCauseFunc); ok {
		cancel(errBehind)
	}
}

// watchStream has the credentials of a Server-Sent Events stream watched while the subscription runs, as a
// WebSocket connection's are (which are watched from connection_init), and returns the function that stops it.
// The stream ends when they no longer hold.
func (l *subscriptions) watchStream(ctx context.Context) func() {
	cancel, ok := ctx.Value(streamKey{}).(context.CancelCauseFunc)
	if !ok || ctx.Value(connKey{}) != nil || !graphql.HasOperationContext(ctx) {
		return func() {}
	}
	if _, err := thread.CheckedViewer(ctx); err != nil {
		return func() {} // refused already: the stream runs as anonymous
	}
	header := graphql.GetOperationContext(ctx).Headers.Get("Authorization")
	w := l.watch.add(header, thread.GrantOf(ctx), thread.AcceptedUntil(ctx), l.watch.changes(), func() { cancel(errRevoked) })
	return func() { l.watch.remove(w) }
}

// streamKey carries the cancel function of a Server-Sent Events request.
type streamKey struct{}

// WithStream returns a context for a streaming request that the subscription may end, and its cancel.
func WithStream(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	return context.WithValue(ctx, streamKey{}, cancel), cancel
}

// commentEvents runs one subscription: it forwards the article's events, as the subscriber may see them, until
// the subscriber leaves or falls behind.
func (r *Resolver) commentEvents(ctx context.Context, articleID int64, after live.Position) (<-chan *CommentEvent, error) {
	if r.live == nil || r.live.opts.Bus == nil {
		return nil, thread.Errorf(thread.CodeInvalid, "this server has no live updates")
	}
	articles, err := r.Service.Articles(ctx, []int64{articleID})
	if err != nil {
		return nil, err
	}
	if articles[articleID] == nil {
		return nil, thread.Errorf(thread.CodeNotFound, "no article has this ID")
	}
	release, err := r.live.acquire(ctx)
	if err != nil {
		return nil, err
	}
	unwatch := r.live.watchStream(ctx)
	sub := r.live.opts.Bus.Subscribe(articleID, after)
	out := make(chan *CommentEvent)
	go func() {
		defer release()
		defer unwatch()
		defer close(out)
		defer sub.Close()
		for {
			var msg live.Message
			var ok bool
			select {
			case <-ctx.Done():
				return
			case msg, ok = <-sub.C:
			}
			if !ok {
				r.resync(ctx, out, sub.Err())
				return
			}
			e, err := r.eventFor(ctx, msg)
			if err != nil || e == nil {
				continue // not for this subscriber (or unreadable now: the next event will do)
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			case <-sub.Done(): // dropped while its consumer does not even take this one: end its connection
				dropConnection(ctx)
				return
			}
		}
	}()
	return out, nil
}

// resync tells a subscriber whose stream ended for err (nil: it ended by itself) to reload. A subscriber too
// slow to take even that within a second loses its connection.
func (r *Resolver) resync(ctx context.Context, out chan<- *CommentEvent, err error) {
	if err == nil {
		return
	}
	select {
	case out <- &CommentEvent{kind: CommentEventKindResync}:
	case <-time.After(time.Second):
		dropConnection(ctx)
	case <-ctx.Done():
	}
}

// eventFor returns the event as the subscriber may see it, or nil when it is not for them.
func (r *Resolver) eventFor(ctx context.Context, msg live.Message) (*CommentEvent, error) {
	e := msg.Event
	seen, err := r.Service.AsSeen(ctx, e.Comment)
	if err != nil {
		return nil, err
	}
	if seen == nil && e.Kind != thread.EventHeld { // a pending comment, for its author and moderators only
		return nil, nil
	}
	if seen != nil && seen.Gone() {
		seen = nil // gone: only its IDs are left (a DELETED, or, read from the log after it, any earlier event)
	}
	l := loadersFor(ctx)
	l.forget() // each event reads the thread as it is now
	if e.Author != nil {
		l.readers.Prime(e.Author.ID, e.Author)
	}
	return &CommentEvent{at: msg.Position, kind: eventKinds[e.Kind], id: e.Comment.ID, parent: e.Comment.ParentID,
		Comment: newComment(ctx, seen)}, nil
}
