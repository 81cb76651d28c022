package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// FuzzWebsocketMessages sends a sequence of arbitrary messages (the fuzzer's bytes, one message per line) over
// a real graphql-transport-ws connection, as any client may before and after authenticating. Whatever comes,
// the server answers only with the protocol's messages, ends the connection only with the protocol's codes,
// never takes more than a second to do either, and never panics.
func FuzzWebsocketMessages(f *testing.F) {
	for _, seed := range []string{
		`{"type":"connection_init"}`,
		`{"type":"connection_init","payload":{"Authorization":"Bearer x"}}`,
		`{"type":"connection_init","payload":{"Authorization":"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}}`,
		`{"type":"connection_init","payload":"Bearer x"}`,
		`{"type":"connection_init","payload":{"Authorization":42}}`,
		"{\"type\":\"connection_init\"}\n{\"type\":\"connection_init\"}",
		"{\"type\":\"connection_init\"}\n{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"subscription { commentEvents(articleId: \\\"QXJ0aWNsZTox\\\") { kind } }\"}}",
		"{\"type\":\"connection_init\"}\n{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"{ __typename }\"}}\n{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"{ __typename }\"}}",
		"{\"type\":\"connection_init\"}\n{\"id\":\"1\",\"type\":\"complete\"}\n{\"type\":\"ping\",\"payload\":[1]}",
		"{\"type\":\"connection_init\"}\n{\"id\":\"\",\"type\":\"subscribe\",\"payload\":null}",
		"{\"type\":\"connection_init\"}\n{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"{ a: __typename a: __schema }\",\"variables\":[]}}",
		`{"type":"subscribe","id":"1","payload":{"query":"{ __typename }"}}`,
		`{"type":"ping"}`,
		`{"type":"pong","payload":{}}`,
		`{"type":"connection_terminate"}`,
		`{"type":"start","id":"1"}`,
		`[]`, `null`, `"`, `{"type":1}`, `{"type":"connection_init","type":"ping"}`,
	} {
		f.Add([]byte(seed))
	}
	var logs syncBuffer
	s := newLoggedWSServer(f, LiveOptions{InitTimeout: 500 * time.Millisecond}, &logs)
	closes := map[websocket.StatusCode]bool{websocket.StatusNormalClosure: true, websocket.StatusMessageTooBig: true,
		closeInvalidMessage: true, closeUnauthorized: true, closeForbidden: true, closeInitTimeout: true,
		closeDuplicateID: true, closeTooManyInits: true}
	answers := map[string]bool{"connection_ack": true, "pong": true, "ping": true, "next": true, "error": true, "complete": true}

	f.Fuzz(func(t *testing.T, data []byte) {
		msgs := bytes.Split(data, []byte("\n"))
		if len(msgs) > 8 {
			msgs = msgs[:8]
		}
		c := s.mustDial(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for _, m := range msgs {
			if err := c.conn.Write(ctx, websocket.MessageText, m); err != nil {
				break // the server closed the connection: what it said is checked below
			}
		}
		deadline := time.After(time.Second)
		for {
			select {
			case m, open := <-c.msgs:
				if !open {
					if code := websocket.CloseStatus(c.end); code != -1 && !closes[code] {
						t.Fatalf("closed with %d (%v) after %q", code, c.end, data)
					}
					checkNoPanic(t, &logs, data)
					return
				}
				if !answers[m.Type] {
					t.Fatalf("the server sent %q after %q", m.Type, data)
				}
				if m.Type == "error" && !json.Valid(m.Payload) {
					t.Fatalf("an error that is not JSON: %s", m.Payload)
				}
			case <-deadline:
				// Still open after a second: the messages left it usable (an acknowledged connection, or one
				// waiting for its init). It must still answer a ping at once.
				if err := c.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"ping"}`)); err == nil {
					select {
					case _, open := <-c.msgs:
						if !open && !closes[websocket.CloseStatus(c.end)] {
							t.Fatalf("closed with %v after %q", c.end, data)
						}
					case <-time.After(time.Second):
						t.Fatalf("no answer to a ping within a second after %q", data)
					}
				}
				checkNoPanic(t, &logs, data)
				return
			}
		}
	})
}

func checkNoPanic(t *testing.T, logs *syncBuffer, data []byte) {
	t.Helper()
	if l := logs.String(); strings.Contains(l, "panic") {
		t.Fatalf("the server panicked after %q: %.2000s", data, l)
	}
}

// syncBuffer is a log destination the server writes to from its goroutines while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
