package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"

	"github.com/threadline/threadline/thread"
)

// The close codes of graphql-transport-ws (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md), with
// the reasons its reference server gives.
const (
	closeInvalidMessage = 4400 // "Invalid message received"
	closeUnauthorized   = 4401 // "Unauthorized": a message other than connection_init before connection_ack
	closeForbidden      = 4403 // "Forbidden": connection_init refused, or credentials that no longer hold
	closeInitTimeout    = 4408 // "Connection initialisation timeout"
	closeSubprotocol    = 4406 // "Subprotocol not acceptable"
	closeDuplicateID    = 4409 // "Subscriber for <id> already exists"
	closeTooManyInits   = 4429 // "Too many initialisation requests"

	reasonForbidden = "Forbidden"
)

// Bounds on a WebSocket connection, most of them before it is authenticated.
const (
	// MaxWebsocketMessageBytes bounds every message a client sends, connection_init and subscribe alike.
	MaxWebsocketMessageBytes = 64 << 10
	// DefaultInitTimeout is how long a connection may take to send connection_init.
	DefaultInitTimeout = 10 * time.Second
	// DefaultPendingPerClient bounds the connections of one client address that are not yet acknowledged: room
	// for a newsroom behind one address, and for the fan-out benchmark, which connects 64 at a time.
	DefaultPendingPerClient = 128
	// websocketPingInterval is how often an idle peer is pinged (a WebSocket ping, which every client answers
	// by itself), and websocketPongTimeout how long it has to answer before the connection is dropped.
	websocketPingInterval = 25 * time.Second
	websocketPongTimeout  = 20 * time.Second
	// websocketWriteTimeout drops a peer that does not read what it is sent.
	websocketWriteTimeout = 10 * time.Second
	subprotocol           = "graphql-transport-ws"
)

// websocketTransport serves graphql-transport-ws over WebSocket: gqlgen's transport runs the operations, over
// a socket of ours that holds what the protocol asks of a server and gqlgen leaves out. Before authentication
// a connection is bounded in time (the init timeout), in memory (the message limit) and in number (per client
// address); every refusal closes it with the protocol's code and frees what it held.
type websocketTransport struct {
	inner   transport.Websocket
	opts    LiveOptions
	pending *addressCount
	log     *slog.Logger
}

// newWebsocketTransport returns the WebSocket transport of the handler: connections are authenticated by
// their connection_init and re-checked by watch while they last.
func newWebsocketTransport(svc *thread.Service, live *subscriptions, log *slog.Logger) graphql.Transport {
	if log == nil {
		log = slog.Default()
	}
	o := &live.opts
	if o.InitTimeout <= 0 {
		o.InitTimeout = DefaultInitTimeout
	}
	if o.PendingPerClient <= 0 {
		o.PendingPerClient = DefaultPendingPerClient
	}
	if o.OperationsPerConnection <= 0 {
		o.OperationsPerConnection = 2 * o.PerConnection
	}
	if o.RecheckInterval == 0 {
		o.RecheckInterval = DefaultRecheckInterval
	}
	live.watch = newCredentialWatch(svc, o.RecheckInterval, log)
	t := &websocketTransport{opts: live.opts, pending: &addressCount{n: map[string]int{}}, log: log}
	noLimit := int64(-1) // the socket enforces its own, with the protocol's codes
	t.inner = transport.Websocket{
		Implementation:   acceptor{},
		InitFunc:         live.initConnection(svc),
		PayloadReadLimit: &noLimit,
		// The socket enforces the init timeout (4408) and the keep-alive (a WebSocket ping).
	}
	return t
}

func (t *websocketTransport) Supports(r *http.Request) bool { return t.inner.Supports(r) }

func (t *websocketTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if !offers(r, subprotocol) {
		http.Error(w, "this endpoint speaks the graphql-transport-ws subprotocol only", http.StatusBadRequest)
		return
	}
	client := thread.Client(r.Context())
	if !t.pending.add(client, t.opts.PendingPerClient) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many WebSocket connections from your address are waiting to be initialised", http.StatusTooManyRequests)
		return
	}
	s := &socket{opts: t.opts, readLimit: MaxWebsocketMessageBytes, ids: map[string]string{}, clientOf: map[string]string{}}
	s.unpend = sync.OnceFunc(func() { t.pending.remove(client) })
	defer func() {
		// A connection gqlgen left without closing (a path it does not close on, or a panic) is closed here:
		// none outlives its handler.
		p := recover()
		if p != nil {
			t.log.Error("websocket connection panicked", "panic", p, "stack", string(debug.Stack()))
			s.closeWith(websocket.StatusInternalError, "Internal Error")
		} else if !s.acknowledged() {
			s.closeWith(closeForbidden, reasonForbidden)
		} else {
			s.closeWith(websocket.StatusNormalClosure, "terminated")
		}
		s.release()
	}()
	t.inner.Do(w, r.WithContext(context.WithValue(r.Context(), socketKey{}, s)), exec)
}

// offers reports whether the WebSocket handshake r offers the subprotocol.
func offers(r *http.Request, protocol string) bool {
	for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(line, ",") {
			if strings.TrimSpace(p) == protocol {
				return true
			}
		}
	}
	return false
}

// acceptor accepts the WebSocket of a request for gqlgen, with the socket Do made for it.
type acceptor struct{}

func (acceptor) Accept(w http.ResponseWriter, r *http.Request, _ transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	s := socketOf(r.Context())
	if s == nil {
		return nil, errors.New("no socket: the request did not come through websocketTransport")
	}
	// Any origin may connect, as with CORS: there are no cookies, and credentials travel in connection_init.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, Subprotocols: []string{subprotocol}})
	if err != nil {
		return nil, err
	}
	// coder/websocket's own limit is a backstop: the socket reads each message through its own, lower one, so
	// that it can close with the protocol's code.
	conn.SetReadLimit(2 * s.readLimit)
	s.start(conn)
	return s, nil
}

type socketKey struct{}

func socketOf(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// socket is one client's WebSocket as gqlgen's transport uses it. It enforces graphql-transport-ws: only
// connection_init (or ping) before connection_ack, once; a message limit; unique operation IDs. The IDs a
// client gives are replaced, on the way to gqlgen, by IDs unique for the connection's life, so that a client
// may reuse an ID it completed while gqlgen still ends the operation that had it, and so that nothing of an
// operation the client completed is sent to it after.
type socket struct {
	opts      LiveOptions
	readLimit int64
	conn      *websocket.Conn
	unpend    func() // frees the place of the connection among those of its address not yet acknowledged

	mu        sync.Mutex
	state     socketState
	closing   bool
	released  bool
	initTimer *time.Timer
	pingTimer *time.Timer
	onRelease []func()
	seq       uint64
	ids       map[string]string // the client's ID of each operation it may still receive, to gqlgen's
	clientOf  map[string]string // gqlgen's ID of each operation still running, to the client's
}

type socketState int

const (
	awaitingInit socketState = iota // no connection_init yet
	initialising                    // connection_init handed to gqlgen, which authenticates it
	acknowledged                    // connection_ack sent
)

// errSocketClosed is what reads return once the socket closed itself; gqlgen takes it as a normal end.
var errSocketClosed = transport.ErrWebsocketClosed

func (s *socket) start(conn *websocket.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn = conn
	timeout := s.opts.InitTimeout
	s.initTimer = time.AfterFunc(timeout, func() { s.closeWith(closeInitTimeout, "Connection initialisation timeout") })
	s.pingTimer = time.AfterFunc(websocketPingInterval, s.ping)
}

// ping checks that the peer is still there; one that does not answer is dropped.
func (s *socket) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), websocketPongTimeout)
	defer cancel()
	if err := s.conn.Ping(ctx); err != nil {
		s.release()
		_ = s.conn.CloseNow()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.released {
		s.pingTimer.Reset(websocketPingInterval)
	}
}

// whenReleased registers fn to run once the connection ends; at once if it has.
func (s *socket) whenReleased(fn func()) {
	s.mu.Lock()
	if !s.released {
		s.onRelease = append(s.onRelease, fn)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	fn()
}

// release frees what the connection holds: its timers, its place among the pending, what others registered.
func (s *socket) release() {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return
	}
	s.released = true
	if s.initTimer != nil {
		s.initTimer.Stop()
		s.pingTimer.Stop()
	}
	fns := s.onRelease
	s.onRelease = nil
	s.mu.Unlock()
	s.unpend()
	for _, fn := range fns {
		fn()
	}
}

func (s *socket) acknowledged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == acknowledged
}

// closeWith closes the connection with code and reason, unless it is closing already: the first reason
// given is the one the client sees. Nothing is sent after it.
func (s *socket) closeWith(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	if s.closing || s.conn == nil {
		s.mu.Unlock()
		return
	}
	s.closing = true
	s.mu.Unlock()
	s.release()
	// The close handshake waits for the peer's answer (5 s at most, then the connection is closed anyway):
	// in the background, so that no caller waits on a peer.
	go func() { _ = s.conn.Close(code, reason) }()
}

func (s *socket) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Close is gqlgen's end of the connection, after WriteClose.
func (s *socket) Close() error {
	s.mu.Lock()
	closing := s.closing
	s.closing = true
	s.mu.Unlock()
	s.release()
	if closing {
		return nil // the close handshake under way closes the connection
	}
	return s.conn.CloseNow()
}

// WriteClose is gqlgen's close.
func (s *socket) WriteClose(code int, reason string) error {
	s.closeWith(websocket.StatusCode(code), reason)
	return nil
}

func (s *socket) Subprotocol() string { return s.conn.Subprotocol() }

// wireMessage is a message of graphql-transport-ws.
type wireMessage struct {
	ID      *string         `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// NextReader returns the next message for gqlgen, once the protocol allows it.
func (s *socket) NextReader() (int, io.Reader, error) {
	for {
		if s.isClosing() { // what comes after the close frame is not read: the close handshake discards it
			return 0, nil, errSocketClosed
		}
		typ, r, err := s.conn.Reader(context.Background())
		if err != nil {
			if s.isClosing() || isNormalClose(err) {
				return 0, nil, errSocketClosed
			}
			return 0, nil, err
		}
		data, err := io.ReadAll(io.LimitReader(r, s.readLimit+1))
		if err != nil {
			return 0, nil, err
		}
		if int64(len(data)) > s.readLimit {
			if s.acknowledged() {
				s.closeWith(websocket.StatusMessageTooBig, fmt.Sprintf("Message too big: the limit is %d bytes", s.readLimit))
			} else {
				s.closeWith(closeForbidden, reasonForbidden)
			}
			return 0, nil, errSocketClosed
		}
		out, err := s.admit(data)
		if err != nil {
			return 0, nil, err
		}
		if out != nil {
			return int(typ), bytes.NewReader(out), nil
		}
	}
}

// admit checks a client's message against the protocol and returns what gqlgen is to read of it: nil for a
// message the socket answered itself, an error once it closed the connection.
func (s *socket) admit(data []byte) ([]byte, error) {
	var m wireMessage
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		return s.refuse(closeInvalidMessage, "Invalid message received")
	}
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	if state == awaitingInit {
		switch m.Type {
		case "connection_init":
			// The payload is optional, and else an object: anything else would leave gqlgen unable to read it.
			if p := bytes.TrimSpace(m.Payload); len(p) > 0 && !bytes.Equal(p, []byte("null")) && p[0] != '{' {
				return s.refuse(closeForbidden, reasonForbidden)
			}
			s.mu.Lock()
			s.state = initialising
			s.mu.Unlock()
			return data, nil
		case "ping":
			return nil, s.write(wireMessage{Type: "pong", Payload: objectOnly(m.Payload)})
		case "pong":
			return nil, nil
		case "subscribe", "complete":
			return s.refuse(closeUnauthorized, "Unauthorized")
		}
		return s.refuse(closeInvalidMessage, "Invalid message received")
	}
	switch m.Type {
	case "connection_init":
		return s.refuse(closeTooManyInits, "Too many initialisation requests")
	case "ping", "pong":
		return data, nil
	case "subscribe":
		if m.ID == nil || *m.ID == "" {
			return s.refuse(closeInvalidMessage, "Invalid message received: a subscribe message needs an id")
		}
		id := *m.ID
		s.mu.Lock()
		if _, dup := s.ids[id]; dup {
			s.mu.Unlock()
			return s.refuse(closeDuplicateID, "Subscriber for "+clip(id, 80)+" already exists")
		}
		if len(s.clientOf) >= s.opts.OperationsPerConnection {
			s.mu.Unlock()
			return nil, s.write(wireMessage{ID: &id, Type: "error", Payload: rateLimited(s.opts.OperationsPerConnection)})
		}
		s.seq++
		internal := strconv.FormatUint(s.seq, 10)
		s.ids[id], s.clientOf[internal] = internal, id
		s.mu.Unlock()
		m.ID = &internal
		return json.Marshal(m)
	case "complete":
		if m.ID == nil {
			return s.refuse(closeInvalidMessage, "Invalid message received: a complete message needs an id")
		}
		s.mu.Lock()
		internal, ok := s.ids[*m.ID]
		delete(s.ids, *m.ID) // the client may use the ID again at once: nothing more of this one reaches it
		s.mu.Unlock()
		if !ok {
			return nil, nil // completed already, or never started: nothing to do
		}
		m.ID = &internal
		return json.Marshal(m)
	}
	return s.refuse(closeInvalidMessage, "Invalid message received")
}

func (s *socket) refuse(code websocket.StatusCode, reason string) ([]byte, error) {
	s.closeWith(code, reason)
	return nil, errSocketClosed
}

// WriteJSON sends a message of gqlgen's, under the client's ID for the operation, unless the client completed
// the operation or the connection is closing.
func (s *socket) WriteJSON(v any) error {
	typ, id, ok := messageHeader(v)
	if !ok {
		return fmt.Errorf("websocket: cannot read the type of %T", v)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return net.ErrClosed
	}
	send := true
	switch typ {
	case "connection_ack":
		s.state = acknowledged
		s.initTimer.Stop()
	case "next", "error", "complete":
		client, running := s.clientOf[id]
		send = running && s.ids[client] == id
		if typ != "next" && running { // the operation's last message
			delete(s.clientOf, id)
			if send {
				delete(s.ids, client)
			}
		}
		if send {
			setMessageID(v, client)
		}
	}
	s.mu.Unlock()
	if typ == "connection_ack" {
		s.unpend()
	}
	if !send {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.writeRaw(b)
}

func (s *socket) write(m wireMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.writeRaw(b)
}

func (s *socket) writeRaw(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), websocketWriteTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b) // on timeout, coder/websocket closes the connection
}

// messageHeader reads the type and ID of a message gqlgen sends: a pointer to a struct with string fields Type
// and ID.
func messageHeader(v any) (typ, id string, ok bool) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return "", "", false
	}
	t, i := rv.FieldByName("Type"), rv.FieldByName("ID")
	if t.Kind() != reflect.String || i.Kind() != reflect.String {
		return "", "", false
	}
	return t.String(), i.String(), true
}

func setMessageID(v any, id string) {
	if f := reflect.Indirect(reflect.ValueOf(v)).FieldByName("ID"); f.CanSet() {
		f.SetString(id)
	}
}

// objectOnly returns a ping's payload for its pong: an object, or none.
func objectOnly(p json.RawMessage) json.RawMessage {
	if p = bytes.TrimSpace(p); len(p) > 0 && p[0] == '{' {
		return p
	}
	return nil
}

func rateLimited(limit int) json.RawMessage {
	b, _ := json.Marshal([]map[string]any{{
		"message":    fmt.Sprintf("a connection may run %d operations at once", limit),
		"extensions": map[string]any{"code": thread.CodeRateLimited},
	}})
	return b
}

// clip cuts s to at most n bytes, on a character boundary: close reasons are limited to 123 bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isNormalClose(err error) bool {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// addressCount counts connections per client address.
type addressCount struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *addressCount) add(client string, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[client] >= limit {
		return false
	}
	c.n[client]++
	return true
}

func (c *addressCount) remove(client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[client]--; c.n[client] <= 0 {
		delete(c.n, client)
	}
}
