package server_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
)

// wsClient is a graphql-transport-ws client over a real WebSocket.
type wsClient struct {
	conn *websocket.Conn
	msgs chan wsMessage
	// end is why reading stopped, set before msgs is closed.
	end error
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS connects and completes connection_init with token (none when empty); it fails the test unless the
// server acknowledges.
func (s *testServer) dialWS(tb testing.TB, token string) *wsClient {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn := s.rawWS(tb)
	conn.SetReadLimit(1 << 20)
	tb.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	init := map[string]any{"type": "connection_init"}
	if token != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + token}
	}
	if err := wsjson.Write(ctx, conn, init); err != nil {
		tb.Fatal(err)
	}
	c := &wsClient{conn: conn, msgs: make(chan wsMessage, 1024)}
	go func() {
		defer close(c.msgs)
		for {
			var m wsMessage
			if err := wsjson.Read(context.Background(), conn, &m); err != nil {
				c.end = err
				return
			}
			if m.Type == "ping" {
				_ = wsjson.Write(context.Background(), conn, map[string]string{"type": "pong"})
				continue
			}
			c.msgs <- m
		}
	}()
	if m := c.next(tb); m.Type != "connection_ack" {
		tb.Fatalf("connection_init answered %+v", m)
	}
	return c
}

func (c *wsClient) next(tb testing.TB) wsMessage {
	tb.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			tb.Fatal("the connection closed")
		}
		return m
	case <-time.After(5 * time.Second):
		tb.Fatal("no message within 5 s")
	}
	return wsMessage{}
}

// subscribe starts a subscription with the given id.
func (c *wsClient) subscribe(tb testing.TB, id, query string, vars map[string]any) {
	tb.Helper()
	err := wsjson.Write(context.Background(), c.conn, map[string]any{"id": id, "type": "subscribe",
		"payload": map[string]any{"query": query, "variables": vars}})
	if err != nil {
		tb.Fatal(err)
	}
}

// liveEvent is a commentEvents event as a test reads it.
type liveEvent struct {
	Cursor    string
	Kind      string
	CommentID *string
	ParentID  *string
	Comment   *struct {
		Status    string
		BodyHTML  string
		LikeCount int
		Rule      *string
	}
}

const eventsQuery = `subscription($a: ID!, $after: String) { commentEvents(articleId: $a, after: $after) {
	cursor kind commentId parentId comment { status bodyHTML likeCount rule } } }`

// event reads the next "next" message of the connection as an event.
func (c *wsClient) event(tb testing.TB) liveEvent {
	tb.Helper()
	m := c.next(tb)
	if m.Type != "next" {
		tb.Fatalf("want an event, got %s %s", m.Type, m.Payload)
	}
	var p struct {
		Data   struct{ CommentEvents liveEvent }
		Errors []gqlError
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		tb.Fatalf("event %s: %v %+v", m.Payload, err, p.Errors)
	}
	return p.Data.CommentEvents
}

// quiet asserts that no message arrives for a moment.
func (c *wsClient) quiet(tb testing.TB) {
	tb.Helper()
	select {
	case m := <-c.msgs:
		tb.Errorf("unexpected message %s %s", m.Type, m.Payload)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestEveryEventArrivesOnceInOrder makes one change of each kind and reads them from a WebSocket subscription:
// each arrives once, in the order the writes committed, with the comment as the subscriber may see it. On
// SQLite, events are published in process with the comment exactly as its write left it. On PostgreSQL, the
// follower of the event log loads the comment when it reads (see thread.Event): the kind, the IDs and the
// order are exact, and the comment is as some write at or after the event's own left it, never older; a
// second run holds the follower back with an open transaction until every write has committed, so that each
// event carries the comment as the last write left it (an ADDED with the edited body and the like, one of a
// comment that is gone with no comment at all).
func TestEveryEventArrivesOnceInOrder(t *testing.T) {
	cases := []struct {
		name     string
		holdBack bool
	}{{"as the events come", false}}
	if teststore.Engine() == teststore.Postgres {
		cases = append(cases, struct {
			name     string
			holdBack bool
		}{"read after the last write", true})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { testEveryEventArrivesOnceInOrder(t, c.holdBack) })
	}
}

// commentState is what a subscriber sees of a comment; status "" when it is gone (the event has no comment).
type commentState struct {
	status, body string
	likes        int
}

func testEveryEventArrivesOnceInOrder(t *testing.T, holdBack bool) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, _ := fx.user(t, "Ada", false)
	reader, _ := fx.user(t, "Bo", false)
	ws := fx.dialWS(t, reader)
	ws.subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article})
	time.Sleep(100 * time.Millisecond) // the subscription is in place

	var hold *sql.Tx // on PostgreSQL, an open write transaction: the follower reads nothing committed after it
	if holdBack {
		var err error
		if hold, err = fx.DB.Raw(t).Begin(); err != nil {
			t.Fatal(err)
		}
		defer hold.Rollback()
		if _, err := hold.Exec("SELECT pg_current_xact_id()"); err != nil {
			t.Fatal(err)
		}
	}
	// Each write, and the state it leaves each comment in, as Bo may see it.
	var states []map[string]commentState
	published := func(body string, likes int) commentState { return commentState{"PUBLISHED", body, likes} }
	after := func(id string, s commentState) {
		next := map[string]commentState{}
		if len(states) > 0 {
			maps.Copy(next, states[len(states)-1])
		}
		next[id] = s
		states = append(states, next)
	}
	top := fx.addComment(t, author, fx.article, "", "First")
	after(top, published("<p>First</p>", 0))
	reply := fx.addComment(t, reader, fx.article, top, "A reply")
	after(reply, published("<p>A reply</p>", 0))
	fx.mutate(t, author, `mutation($c: ID!) { editComment(input: {commentId: $c, body: "First, edited"}) { comment { id } } }`, map[string]any{"c": top})
	after(top, published("<p>First, edited</p>", 0))
	fx.mutate(t, reader, `mutation($c: ID!) { likeComment(input: {commentId: $c}) { comment { id } } }`, map[string]any{"c": top})
	after(top, published("<p>First, edited</p>", 1))
	fx.mutate(t, fx.key, removeMutation, map[string]any{"c": top, "rule": "Spam"})
	after(top, commentState{"REMOVED", "", 1})
	fx.mutate(t, fx.key, `mutation($c: ID!) { restoreComment(input: {commentId: $c, reason: "A mistake."}) { comment { id } } }`, map[string]any{"c": top})
	after(top, published("<p>First, edited</p>", 1))
	fx.mutate(t, reader, `mutation($c: ID!) { deleteComment(input: {commentId: $c}) { deletedCommentId } }`, map[string]any{"c": reply})
	after(reply, commentState{}) // gone: it had no replies
	if holdBack {
		ws.quiet(t) // held back: nothing comes while the transaction is open
		if err := hold.Rollback(); err != nil {
			t.Fatal(err)
		}
	}

	want := []struct{ kind, id, parent string }{
		{"ADDED", top, ""},
		{"ADDED", reply, top},
		{"EDITED", top, ""},
		{"LIKED", top, ""},
		{"REMOVED", top, ""},
		{"RESTORED", top, ""},
		{"DELETED", reply, top},
	}
	var cursors []string
	for i, w := range want {
		e := ws.event(t)
		cursors = append(cursors, e.Cursor)
		parent := ""
		if e.ParentID != nil {
			parent = *e.ParentID
		}
		if e.Kind != w.kind || e.CommentID == nil || *e.CommentID != w.id || parent != w.parent {
			t.Fatalf("event %d: %s %v (parent %q), want %s %s (parent %q)", i, e.Kind, e.CommentID, parent, w.kind, w.id, w.parent)
		}
		got := commentState{}
		if e.Comment != nil {
			got = commentState{e.Comment.Status, e.Comment.BodyHTML, e.Comment.LikeCount}
		}
		// The states the comment may come in: the one its write left on SQLite; on PostgreSQL that one or a
		// later one (the last one only, when the follower read after the last write).
		allowed := []commentState{states[i][w.id]}
		if teststore.Engine() == teststore.Postgres {
			allowed = nil
			for _, s := range states[i:] {
				allowed = append(allowed, s[w.id])
			}
			if holdBack {
				allowed = allowed[len(allowed)-1:]
			}
		}
		if !slices.Contains(allowed, got) {
			t.Errorf("event %d (%s): the comment is %+v, want one of %+v", i, w.kind, got, allowed)
		}
	}
	ws.quiet(t)

	// Catching up: a new subscription after the third event receives the rest, once.
	again := fx.dialWS(t, "")
	again.subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article, "after": cursors[2]})
	for _, w := range want[3:] {
		if e := again.event(t); e.Kind != w.kind {
			t.Fatalf("catching up: %s, want %s", e.Kind, w.kind)
		}
	}
	again.quiet(t)
}

// TestPendingCommentsReachOnlyTheirAuthorAndModerators: on a pre-moderated site, a new comment's event goes
// to its author and to moderators, not to other readers, who see it arrive when it is approved.
func TestPendingCommentsReachOnlyTheirAuthorAndModerators(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{Premoderation: true})
	author, _ := fx.user(t, "Ada", false)
	reader, _ := fx.user(t, "Bo", false)
	subscribers := map[string]*wsClient{}
	for name, token := range map[string]string{"author": author, "reader": reader, "moderator key": fx.key, "anonymous": ""} {
		subscribers[name] = fx.dialWS(t, token)
		subscribers[name].subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article})
	}
	time.Sleep(100 * time.Millisecond)
	id := fx.addComment(t, author, fx.article, "", "Waiting")
	for _, name := range []string{"author", "moderator key"} {
		if e := subscribers[name].event(t); e.Kind != "ADDED" || e.Comment == nil || e.Comment.Status != "PENDING" {
			t.Errorf("the %s got %+v", name, e)
		}
	}
	subscribers["reader"].quiet(t)
	subscribers["anonymous"].quiet(t)

	fx.mutate(t, fx.key, `mutation($c: ID!) { approveComment(input: {commentId: $c}) { comment { id } } }`, map[string]any{"c": id})
	for name, ws := range subscribers {
		if e := ws.event(t); e.Kind != "ADDED" || e.Comment == nil || e.Comment.Status != "PUBLISHED" {
			t.Errorf("after approval the %s got %+v", name, e)
		}
	}
}

// TestServerSentEventsWithCurl subscribes with `curl -N` as a developer would, and reads an event.
func TestServerSentEventsWithCurl(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, _ := fx.user(t, "Ada", false)
	body, _ := json.Marshal(map[string]any{"query": eventsQuery, "variables": map[string]any{"a": fx.article}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	curl := exec.CommandContext(ctx, "curl", "-sN", fx.URL+"/graphql", "-H", "Content-Type: application/json",
		"-H", "Accept: text/event-stream", "--data-binary", string(body))
	out, err := curl.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := curl.Start(); err != nil {
		t.Fatalf("curl: %v (the tests need curl; .ci/run installs it)", err)
	}
	defer curl.Process.Kill()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != ":" {
		t.Fatalf("the stream opened with %q", lines.Text())
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		fx.addComment(t, author, fx.article, "", "Over SSE")
	}()
	for lines.Scan() {
		line, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var p struct {
			Data struct{ CommentEvents liveEvent }
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		if e := p.Data.CommentEvents; e.Kind != "ADDED" || e.Comment == nil || e.Comment.BodyHTML != "<p>Over SSE</p>" {
			t.Errorf("the event: %+v", e)
		}
		return
	}
	t.Fatalf("the stream ended without an event: %v", lines.Err())
}

// TestGraphQLWSClient subscribes with graphql-ws, the reference client of the graphql-transport-ws protocol,
// signed in through connection_init, and receives a new comment.
func TestGraphQLWSClient(t *testing.T) {
	dir := filepath.Join("..", "tools", "graphql-ws-client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-ws")); err != nil {
		t.Fatalf("graphql-ws is missing: run `make test` (or `npm ci --prefix %s`)", dir)
	}
	fx := newModFixture(t, thread.SiteSettings{})
	author, _ := fx.user(t, "Ada", false)
	reader, _ := fx.user(t, "Bo", false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	node := exec.CommandContext(ctx, "node", filepath.Join(dir, "subscribe.mjs"), strings.Replace(fx.URL, "http", "ws", 1)+"/graphql",
		fx.article, "1", reader)
	var stderr strings.Builder
	node.Stderr = &stderr
	out, err := node.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != `{"connected":true}` {
		t.Fatalf("graphql-ws did not connect: %q %s", lines.Text(), stderr.String())
	}
	time.Sleep(200 * time.Millisecond) // its subscribe message follows the acknowledgement
	fx.addComment(t, author, fx.article, "", "Hello, graphql-ws")
	if !lines.Scan() {
		t.Fatalf("no event: %s", stderr.String())
	}
	var result struct {
		Data struct{ CommentEvents liveEvent }
	}
	if err := json.Unmarshal(lines.Bytes(), &result); err != nil {
		t.Fatal(err)
	}
	if e := result.Data.CommentEvents; e.Kind != "ADDED" || e.Comment == nil || e.Comment.BodyHTML != "<p>Hello, graphql-ws</p>" {
		t.Errorf("graphql-ws received %s", lines.Text())
	}
	if err := node.Wait(); err != nil {
		t.Errorf("the client exited with %v: %s", err, stderr.String())
	}
}

// errorCode returns the extensions.code of an "error" message of the protocol.
func errorCode(tb testing.TB, m wsMessage) string {
	tb.Helper()
	// A refusal by the resolver comes as a result with errors (then complete); one before it, as "error".
	var result struct{ Errors []gqlError }
	if m.Type == "error" {
		_ = json.Unmarshal(m.Payload, &result.Errors)
	} else {
		_ = json.Unmarshal(m.Payload, &result)
	}
	if len(result.Errors) == 0 {
		tb.Fatalf("want an error, got %s %s", m.Type, m.Payload)
	}
	c, _ := result.Errors[0].Extensions["code"].(string)
	return c
}

// TestSubscriptionLimits: a connection holds at most its limit of subscriptions, an address at most its own,
// and a connection with none is closed after the idle time.
func TestSubscriptionLimits(t *testing.T) {
	s := newTestServerWith(t, server.Options{SubscriptionsPerConnection: 2, SubscriptionsPerClient: 3, IdleTimeout: 300 * time.Millisecond})
	article := s.articleID(t)
	vars := map[string]any{"a": article}

	// The server takes each subscribe message in a goroutine of its own: pause between them, so that the
	// third is the one refused.
	first := s.dialWS(t, "")
	for _, id := range []string{"1", "2", "3"} {
		first.subscribe(t, id, eventsQuery, vars)
		time.Sleep(50 * time.Millisecond)
	}
	if code := errorCode(t, first.next(t)); code != "RATE_LIMITED" {
		t.Errorf("a third subscription on one connection: %s", code)
	}
	if m := first.next(t); m.Type != "complete" || m.ID != "3" {
		t.Errorf("after the refusal: %s %s", m.Type, m.ID)
	}
	second := s.dialWS(t, "")
	second.subscribe(t, "1", eventsQuery, vars)
	time.Sleep(50 * time.Millisecond)
	second.subscribe(t, "2", eventsQuery, vars)
	if code := errorCode(t, second.next(t)); code != "RATE_LIMITED" {
		t.Errorf("a fourth subscription from one address: %s", code)
	}
	second.next(t) // its complete
	// Ending one frees its place.
	if err := wsjson.Write(context.Background(), first.conn, map[string]string{"id": "1", "type": "complete"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	second.subscribe(t, "3", eventsQuery, vars)
	second.quiet(t)

	idle := s.dialWS(t, "")
	select {
	case _, open := <-idle.msgs:
		for open {
			_, open = <-idle.msgs
		}
	case <-time.After(3 * time.Second):
		t.Error("an idle connection was not closed")
	}
	if websocket.CloseStatus(idle.conn.Ping(context.Background())) == -1 && idle.conn.Ping(context.Background()) == nil {
		t.Error("the idle connection still answers")
	}
}

// TestAStalledSubscriberIsDropped: one subscriber stops reading; the bus drops it once its buffer fills and
// its connection is closed, while another subscriber receives every event, each at once.
func TestAStalledSubscriberIsDropped(t *testing.T) {
	bus := live.NewMemory(4, 16)
	fx := &modFixture{testServer: newTestServerWith(t, server.Options{Bus: bus})}
	article := fx.articleID(t)
	_, token := fx.newReader(t, "Ada")
	comment := fx.addComment(t, token, article, "", "Liked again and again")
	_, n := splitID(t, comment)
	all, err := fx.Svc.Comments(context.Background(), []int64{n})
	if err != nil {
		t.Fatal(err)
	}
	liked := all[n]

	// The stalled one: a raw connection that stops reading once subscribed.
	stalled := fx.dialWS(t, "")
	stalled.subscribe(t, "1", eventsQuery, map[string]any{"a": article})
	active := fx.dialWS(t, "")
	active.subscribe(t, "1", eventsQuery, map[string]any{"a": article})
	time.Sleep(100 * time.Millisecond)
	// Nobody drains stalled.msgs: once its 1,024 places are full, its reader stops reading the socket.

	var slowest time.Duration
	const events = 20_000 // enough to fill the socket buffers in front of the stalled reader
	for i := range events {
		start := time.Now()
		bus.Publish(thread.Event{Kind: thread.EventLiked, SiteID: 1, Comment: liked})
		if e := active.event(t); e.Kind != "LIKED" {
			t.Fatalf("event %d: %s", i, e.Kind)
		}
		slowest = max(slowest, time.Since(start))
	}
	if open, dropped := bus.Stats(); dropped != 1 || open != 1 {
		t.Errorf("after %d events: %d subscriptions open, %d dropped; want 1 and 1", events, open, dropped)
	}
	// Reading again, the stalled subscriber finds what was sent before, then the server's close.
	deadline := time.After(10 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-stalled.msgs:
		case <-deadline:
			t.Fatal("the stalled subscriber's connection was not closed")
		}
	}
	var ce websocket.CloseError
	if !errors.As(stalled.end, &ce) || ce.Reason == "" {
		t.Errorf("the connection ended with %v, want a close frame that says why", stalled.end)
	}
	t.Logf("the stalled subscriber's connection closed: %v", stalled.end)
	t.Logf("the slowest of %d events took %v to reach the active subscriber", events, slowest)
	if slowest > time.Second {
		t.Errorf("an event took %v to reach the active subscriber", slowest)
	}
}
