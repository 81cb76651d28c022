package graph

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/thread"
)

// wsServer is the GraphQL handler over a real database with the sample (see internal/teststore), behind a
// real HTTP server.
type wsServer struct {
	url     string
	db      *teststore.DB
	svc     *thread.Service
	bus     *live.Memory
	article string
}

func newWSServer(tb testing.TB, opts LiveOptions) *wsServer {
	tb.Helper()
	return newLoggedWSServer(tb, opts, io.Discard)
}

// newLoggedWSServer is newWSServer with the server's log written to logs.
func newLoggedWSServer(tb testing.TB, opts LiveOptions, logs io.Writer) *wsServer {
	tb.Helper()
	db, svc := teststore.Open(tb)
	if _, err := seed.Load(context.Background(), svc); err != nil {
		tb.Fatal(err)
	}
	bus := db.Live(tb, svc, 64, 256).Bus // fed by the event log on PostgreSQL
	if bus == nil {
		bus = live.NewMemory(64, 256)
		svc.OnEvent(bus.Publish)
	}
	opts.Bus = bus
	h := NewHandler(svc, Options{Live: opts, Log: slog.New(slog.NewTextHandler(logs, nil)), RequestID: func(context.Context) string { return "test" }})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := WithLoaders(thread.WithClient(r.Context(), "192.0.2.1"), svc)
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	tb.Cleanup(hs.Close)
	a, err := svc.Article(context.Background(), "demo", "social-credit")
	if err != nil {
		tb.Fatal(err)
	}
	return &wsServer{url: strings.Replace(hs.URL, "http", "ws", 1), db: db, svc: svc, bus: bus, article: globalID(kindArticle, a.ID)}
}

// testConn is a client's connection, read in the background so that waiting for a message that should not
// come does not end it.
type testConn struct {
	conn *websocket.Conn
	msgs chan received
	end  error // why reading stopped, set before msgs is closed
}

type received struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// dial opens a graphql-transport-ws connection and sends nothing.
func (s *wsServer) dial(tb testing.TB) (*testConn, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, s.url, &websocket.DialOptions{Subprotocols: []string{subprotocol}})
	if err != nil {
		if resp != nil {
			return nil, &dialError{status: resp.StatusCode, err: err}
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	tb.Cleanup(func() { conn.CloseNow() })
	c := &testConn{conn: conn, msgs: make(chan received, 100)}
	go func() {
		defer close(c.msgs)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				c.end = err
				return
			}
			var m received
			if err := json.Unmarshal(b, &m); err != nil {
				m = received{Type: "unreadable: " + string(b)}
			}
			c.msgs <- m
		}
	}()
	return c, nil
}

type dialError struct {
	status int
	err    error
}

func (e *dialError) Error() string { return e.err.Error() }

func (s *wsServer) mustDial(tb testing.TB) *testConn {
	tb.Helper()
	conn, err := s.dial(tb)
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func send(tb testing.TB, c *testConn, msg string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		tb.Fatal(err)
	}
}

// read returns the next message within the time, or the error that ended the connection; ok is false when
// neither came.
func read(c *testConn, within time.Duration) (m received, err error, ok bool) {
	select {
	case m, open := <-c.msgs:
		if !open {
			return received{}, c.end, true
		}
		return m, nil, true
	case <-time.After(within):
		return received{}, nil, false
	}
}

// closedWith reads until the server closes and returns its close frame; messages of the types in allowed may
// come first.
func closedWith(tb testing.TB, c *testConn, within time.Duration, allowed ...string) websocket.CloseError {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		m, err, ok := read(c, time.Until(deadline))
		switch {
		case !ok:
			tb.Fatalf("the connection is still open after %v", within)
		case err != nil:
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				tb.Fatalf("the connection ended without a close frame: %v", err)
			}
			return ce
		case !slices.Contains(allowed, m.Type):
			tb.Fatalf("the server sent %s %s before closing", m.Type, m.Payload)
		}
	}
}

func expect(tb testing.TB, c *testConn, typ, id string) received {
	tb.Helper()
	m, err, ok := read(c, 5*time.Second)
	if !ok || err != nil {
		tb.Fatalf("want %s %s, got %v (in time: %v)", typ, id, err, ok)
	}
	if m.Type != typ || m.ID != id {
		tb.Fatalf("want %s %q, got %s %q %s", typ, id, m.Type, m.ID, m.Payload)
	}
	return m
}

const initMessage = `{"type":"connection_init"}`

// TestWebsocketProtocolCloses: every breach of graphql-transport-ws closes the connection with the code the
// protocol gives it.
func TestWebsocketProtocolCloses(t *testing.T) {
	s := newWSServer(t, LiveOptions{InitTimeout: 300 * time.Millisecond})
	big := `{"type":"ping","payload":{"x":"` + strings.Repeat("a", MaxWebsocketMessageBytes) + `"}}`
	for _, c := range []struct {
		name     string
		messages []string
		code     websocket.StatusCode
	}{
		{"subscribe before connection_init", []string{`{"id":"1","type":"subscribe","payload":{"query":"{ __typename }"}}`}, closeUnauthorized},
		{"complete before connection_init", []string{`{"id":"1","type":"complete"}`}, closeUnauthorized},
		{"a second connection_init", []string{initMessage, initMessage}, closeTooManyInits},
		{"no connection_init in time", nil, closeInitTimeout},
		{"not JSON", []string{`{"type":`}, closeInvalidMessage},
		{"no type", []string{`{"id":"1"}`}, closeInvalidMessage},
		{"an unknown type", []string{`{"type":"hello"}`}, closeInvalidMessage},
		{"an unknown type after init", []string{initMessage, `{"type":"hello"}`}, closeInvalidMessage},
		{"a server's message from the client", []string{initMessage, `{"id":"1","type":"next","payload":{}}`}, closeInvalidMessage},
		{"subscribe without an id", []string{initMessage, `{"type":"subscribe","payload":{"query":"{ __typename }"}}`}, closeInvalidMessage},
		{"an id that is not a string", []string{initMessage, `{"id":1,"type":"subscribe","payload":{"query":"{ __typename }"}}`}, closeInvalidMessage},
		{"a payload that is not an object", []string{`{"type":"connection_init","payload":"Bearer x"}`}, closeForbidden},
		{"a message over the limit before init", []string{big}, closeForbidden},
		{"a message over the limit after init", []string{initMessage, big}, websocket.StatusMessageTooBig},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := s.mustDial(t)
			for _, m := range c.messages {
				send(t, conn, m)
			}
			start := time.Now()
			ce := closedWith(t, conn, 2*time.Second, "connection_ack")
			if ce.Code != c.code {
				t.Errorf("closed with %d %q, want %d", ce.Code, ce.Reason, c.code)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("closed after %v", took)
			}
		})
	}
}

// TestWebsocketPingBeforeInit: a ping may come at any time; it is answered, and the connection goes on.
func TestWebsocketPingBeforeInit(t *testing.T) {
	s := newWSServer(t, LiveOptions{})
	conn := s.mustDial(t)
	send(t, conn, `{"type":"ping","payload":{"n":1}}`)
	if m := expect(t, conn, "pong", ""); string(m.Payload) != `{"n":1}` {
		t.Errorf("pong payload %s", m.Payload)
	}
	send(t, conn, initMessage)
	expect(t, conn, "connection_ack", "")
}

// TestWebsocketSubscriptionIDs: an ID names one operation at a time: a duplicate closes the connection with
// 4409; an ID the client or the server completed may be used again, and the new operation alone answers to it.
func TestWebsocketSubscriptionIDs(t *testing.T) {
	s := newWSServer(t, LiveOptions{})
	events := `{"id":"a","type":"subscribe","payload":{"query":"subscription($a: ID!) { commentEvents(articleId: $a) { kind } }","variables":{"a":"` + s.article + `"}}}`

	t.Run("duplicate", func(t *testing.T) {
		conn := s.mustDial(t)
		send(t, conn, initMessage)
		expect(t, conn, "connection_ack", "")
		send(t, conn, events)
		send(t, conn, events)
		if ce := closedWith(t, conn, 2*time.Second); ce.Code != closeDuplicateID || ce.Reason != "Subscriber for a already exists" {
			t.Errorf("closed with %d %q", ce.Code, ce.Reason)
		}
	})

	t.Run("reused after the client completes it", func(t *testing.T) {
		conn := s.mustDial(t)
		send(t, conn, initMessage)
		expect(t, conn, "connection_ack", "")
		for range 5 { // subscribe, complete, subscribe again at once: the old one may still be ending
			send(t, conn, events)
			send(t, conn, `{"id":"a","type":"complete"}`)
		}
		send(t, conn, events)
		time.Sleep(200 * time.Millisecond)
		_, n, err := parseGlobalID(s.article)
		if err != nil {
			t.Fatal(err)
		}
		// A real write: on PostgreSQL the bus hears of events only from the event log.
		r, _, err := s.svc.CreateReader(context.Background(), "demo", "Writer")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.AddComment(thread.WithViewer(context.Background(), r), thread.NewComment{ArticleID: n, Body: "An event"}); err != nil {
			t.Fatal(err)
		}
		expect(t, conn, "next", "a")
		// Nothing else: no event of the completed ones, no complete of theirs.
		if m, err, ok := read(conn, 300*time.Millisecond); ok {
			t.Errorf("then %s %q %s %v", m.Type, m.ID, m.Payload, err)
		}
		send(t, conn, `{"id":"a","type":"complete"}`)
		send(t, conn, events)
		send(t, conn, `{"id":"b","type":"ping"}`) // the connection is still open and answers
		expect(t, conn, "pong", "")
	})

	t.Run("reused after the server completes it", func(t *testing.T) {
		conn := s.mustDial(t)
		send(t, conn, initMessage)
		expect(t, conn, "connection_ack", "")
		for range 3 {
			send(t, conn, `{"id":"q","type":"subscribe","payload":{"query":"{ __typename }"}}`)
			if m := expect(t, conn, "next", "q"); !strings.Contains(string(m.Payload), "Query") {
				t.Errorf("next %s", m.Payload)
			}
			expect(t, conn, "complete", "q")
		}
	})
}

// TestWebsocketOperationsPerConnection: a connection runs at most its limit of operations at once; one more
// is refused with RATE_LIMITED, and the connection goes on.
func TestWebsocketOperationsPerConnection(t *testing.T) {
	s := newWSServer(t, LiveOptions{PerConnection: 5, OperationsPerConnection: 2})
	subscribe := func(id string) string {
		return `{"id":"` + id + `","type":"subscribe","payload":{"query":"subscription($a: ID!) { commentEvents(articleId: $a) { kind } }","variables":{"a":"` + s.article + `"}}}`
	}
	conn := s.mustDial(t)
	send(t, conn, initMessage)
	expect(t, conn, "connection_ack", "")
	send(t, conn, subscribe("a"))
	send(t, conn, subscribe("b"))
	send(t, conn, subscribe("c"))
	if m := expect(t, conn, "error", "c"); !strings.Contains(string(m.Payload), "RATE_LIMITED") {
		t.Errorf("the third: %s", m.Payload)
	}
	send(t, conn, `{"id":"a","type":"complete"}`)
	time.Sleep(100 * time.Millisecond) // gqlgen ends it
	send(t, conn, subscribe("c"))
	if m, err, ok := read(conn, 300*time.Millisecond); ok {
		t.Errorf("then %s %s %v", m.Type, m.Payload, err)
	}
}

// TestWebsocketPendingPerClient: an address holds at most its limit of connections waiting for
// connection_ack; the next is refused before the upgrade, and a place frees as soon as one is acknowledged
// or closed.
func TestWebsocketPendingPerClient(t *testing.T) {
	s := newWSServer(t, LiveOptions{PendingPerClient: 3})
	var pending []*testConn
	for range 3 {
		pending = append(pending, s.mustDial(t))
	}
	_, err := s.dial(t)
	var de *dialError
	if !errors.As(err, &de) || de.status != http.StatusTooManyRequests {
		t.Fatalf("a fourth pending connection: %v", err)
	}
	send(t, pending[0], initMessage)
	expect(t, pending[0], "connection_ack", "")
	fourth := s.mustDial(t)
	// A refused init frees its place too.
	send(t, fourth, `{"type":"connection_init","payload":{"Authorization":"Bearer tl_nobody"}}`)
	if ce := closedWith(t, fourth, time.Second); ce.Code != closeForbidden {
		t.Errorf("refused with %d", ce.Code)
	}
	time.Sleep(50 * time.Millisecond)
	s.mustDial(t)
}

// TestWebsocketSubprotocolRequired: a client that does not speak graphql-transport-ws is refused before the
// upgrade.
func TestWebsocketSubprotocolRequired(t *testing.T) {
	s := newWSServer(t, LiveOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, protocols := range [][]string{nil, {"graphql-ws"}} {
		_, resp, err := websocket.Dial(ctx, s.url, &websocket.DialOptions{Subprotocols: protocols})
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("subprotocols %v: %v", protocols, err)
		}
	}
}

// TestWebsocketPeriodicRecheck: a change no hook tells of (here, a reader's token withdrawn straight in the
// database) still closes the connections it concerns, at the next periodic check; others stay open.
func TestWebsocketPeriodicRecheck(t *testing.T) {
	s := newWSServer(t, LiveOptions{RecheckInterval: 200 * time.Millisecond})
	ctx := context.Background()
	gone, goneToken, err := s.svc.CreateReader(ctx, "demo", "Gone")
	if err != nil {
		t.Fatal(err)
	}
	_, stayingToken, err := s.svc.CreateReader(ctx, "demo", "Staying")
	if err != nil {
		t.Fatal(err)
	}
	connect := func(token string) *testConn {
		c := s.mustDial(t)
		send(t, c, `{"type":"connection_init","payload":{"Authorization":"Bearer `+token+`"}}`)
		expect(t, c, "connection_ack", "")
		return c
	}
	goneConn, stayingConn := connect(goneToken), connect(stayingToken)
	if _, err := s.db.Raw(t).Exec(`UPDATE readers SET token_hash = NULL WHERE id = $1`, gone.ID); err != nil {
		t.Fatal(err)
	}
	if ce := closedWith(t, goneConn, 2*time.Second); ce.Code != closeForbidden {
		t.Errorf("closed with %d %q", ce.Code, ce.Reason)
	}
	send(t, stayingConn, `{"type":"ping"}`)
	expect(t, stayingConn, "pong", "")
}
