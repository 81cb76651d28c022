package multiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// event is one commentEvents event as a subscriber received it.
type event struct {
	Cursor    string
	Kind      string
	CommentID string
}

// subscriber is a graphql-transport-ws connection to one server holding one commentEvents subscription, as
// the widget holds it. It keeps every event it receives, and why it ended.
type subscriber struct {
	conn *websocket.Conn

	mu     sync.Mutex
	events []event
	ended  error // nil while the subscription is open
	done   chan struct{}
}

const commentEvents = `subscription($a: ID!, $after: String) { commentEvents(articleId: $a, after: $after) { cursor kind commentId } }`

// subscribe opens a subscription to the article's events on the server, anonymously, after cursor (none if
// empty), and returns once the server acknowledged the connection.
func (s *server) subscribe(articleID, after string) (*subscriber, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.base, "http", "ws", 1)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", s.name, err)
	}
	conn.SetReadLimit(1 << 20)
	send := func(msg any) error {
		b, _ := json.Marshal(msg)
		return conn.Write(ctx, websocket.MessageText, b)
	}
	fail := func(err error) (*subscriber, error) {
		conn.CloseNow()
		return nil, fmt.Errorf("server %s: %w", s.name, err)
	}
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]any{}}); err != nil {
		return fail(err)
	}
	_, b, err := conn.Read(ctx)
	if err != nil {
		return fail(err)
	}
	if !strings.Contains(string(b), `"connection_ack"`) {
		return fail(fmt.Errorf("connection_init answered %s", b))
	}
	vars := map[string]any{"a": articleID}
	if after != "" {
		vars["after"] = after
	}
	if err := send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": commentEvents, "variables": vars}}); err != nil {
		return fail(err)
	}
	sub := &subscriber{conn: conn, done: make(chan struct{})}
	go sub.read()
	return sub, nil
}

func (sub *subscriber) read() {
	defer close(sub.done)
	end := func(err error) {
		sub.mu.Lock()
		sub.ended = err
		sub.mu.Unlock()
	}
	for {
		_, b, err := sub.conn.Read(context.Background())
		if err != nil {
			end(err)
			return
		}
		var msg struct {
			Type    string
			Payload json.RawMessage
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			end(fmt.Errorf("%s: %w", b, err))
			return
		}
		switch msg.Type {
		case "next":
			var p struct {
				Data   struct{ CommentEvents event }
				Errors []gqlError
			}
			if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
				end(fmt.Errorf("next: %s", msg.Payload))
				return
			}
			sub.mu.Lock()
			sub.events = append(sub.events, p.Data.CommentEvents)
			sub.mu.Unlock()
		case "ping":
			_ = sub.conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`))
		case "error", "complete":
			end(fmt.Errorf("%s", b))
			return
		}
	}
}

// received returns the events received so far, and why the subscription ended (nil while it is open).
func (sub *subscriber) received() ([]event, error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return append([]event(nil), sub.events...), sub.ended
}

// last returns the cursor of the last event received, "" if none.
func (sub *subscriber) last() string {
	events, _ := sub.received()
	if len(events) == 0 {
		return ""
	}
	return events[len(events)-1].Cursor
}

// close ends the connection and waits for the reader.
func (sub *subscriber) close() {
	sub.conn.CloseNow()
	<-sub.done
}

// added returns the IDs of the ADDED events, with how many times each came, and whether a RESYNC came.
func added(events []event) (counts map[string]int, resync bool) {
	counts = map[string]int{}
	for _, e := range events {
		switch e.Kind {
		case "ADDED":
			counts[e.CommentID]++
		case "RESYNC":
			resync = true
		}
	}
	return counts, resync
}
