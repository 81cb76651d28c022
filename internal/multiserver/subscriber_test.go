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
	at        time.Time // when it came
}

// subscriber is a graphql-transport-ws connection to one server holding one commentEvents subscription, as
// the widget holds it. It keeps every event it receives, and why it ended. Like the widget, when the server
// closes the connection because the subscriber fell behind, it subscribes again after the last cursor it
// received (and counts it in resumed).
type subscriber struct {
	srv     *server
	article string
	done    chan struct{}

	mu      sync.Mutex
	conn    *websocket.Conn
	events  []event
	resumed []time.Time
	ended   error // nil while the subscription is open
	closing bool
}

const commentEvents = `subscription($a: ID!, $after: String) { commentEvents(articleId: $a, after: $after) { cursor kind commentId } }`

// subscribe opens a subscription to the article's events on the server, anonymously, after cursor (none if
// empty), and returns once the server acknowledged the connection.
func (s *server) subscribe(articleID, after string) (*subscriber, error) {
	conn, err := s.dialSubscription(articleID, after)
	if err != nil {
		return nil, err
	}
	sub := &subscriber{srv: s, article: articleID, conn: conn, done: make(chan struct{})}
	go sub.read()
	return sub, nil
}

// dialSubscription opens a connection, and subscribes once the server acknowledged it.
func (s *server) dialSubscription(articleID, after string) (*websocket.Conn, error) {
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
	fail := func(err error) (*websocket.Conn, error) {
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
	return conn, nil
}

func (sub *subscriber) read() {
	defer close(sub.done)
	end := func(err error) {
		sub.mu.Lock()
		sub.ended = err
		sub.mu.Unlock()
	}
	for {
		sub.mu.Lock()
		conn := sub.conn
		sub.mu.Unlock()
		err := sub.readConn(conn)
		sub.mu.Lock()
		closing := sub.closing
		sub.mu.Unlock()
		if closing || !strings.Contains(err.Error(), "fell behind") {
			end(err)
			return
		}
		again, dialErr := sub.srv.dialSubscription(sub.article, sub.last())
		if dialErr != nil {
			end(fmt.Errorf("%v; then %w", err, dialErr))
			return
		}
		sub.mu.Lock()
		sub.conn = again
		sub.resumed = append(sub.resumed, time.Now())
		closing = sub.closing
		sub.mu.Unlock()
		if closing {
			again.CloseNow()
		}
	}
}

// readConn reads one connection's messages until it ends, and returns why.
func (sub *subscriber) readConn(conn *websocket.Conn) error {
	for {
		_, b, err := conn.Read(context.Background())
		if err != nil {
			return err
		}
		var msg struct {
			Type    string
			Payload json.RawMessage
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		switch msg.Type {
		case "next":
			var p struct {
				Data   struct{ CommentEvents event }
				Errors []gqlError
			}
			if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
				return fmt.Errorf("next: %s", msg.Payload)
			}
			e := p.Data.CommentEvents
			e.at = time.Now()
			sub.mu.Lock()
			sub.events = append(sub.events, e)
			sub.mu.Unlock()
		case "ping":
			_ = conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`))
		case "error", "complete":
			return fmt.Errorf("%s", b)
		}
	}
}

// resumes returns when the subscriber subscribed again after the server closed its connection for falling
// behind.
func (sub *subscriber) resumes() []time.Time {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return append([]time.Time(nil), sub.resumed...)
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
	sub.mu.Lock()
	sub.closing = true
	conn := sub.conn
	sub.mu.Unlock()
	conn.CloseNow()
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
