package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/server/cluster"
	"github.com/threadline/threadline/store/postgres"
	"github.com/threadline/threadline/thread"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// node is one Threadline server on the shared database: its own pool, service, follower and HTTP server.
type node struct {
	URL  string
	Svc  *thread.Service
	DB   *postgres.DB
	Node *cluster.Node
}

// startNode starts a server on the database at url, as `threadline serve` does on PostgreSQL.
func startNode(t testing.TB, url string, opts cluster.Options) *node {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := thread.NewService(db)
	opts.Log = quiet
	n, err := cluster.New(ctx, db, svc, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(svc, server.Options{Log: quiet, Bus: n.Bus, Health: n.Health, Ready: n.Ready, CacheInDoubt: n.Behind})
	n.Start()
	t.Cleanup(n.Stop) // before the pool closes
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return &node{URL: hs.URL, Svc: svc, DB: db, Node: n}
}

// twoNodes starts two servers on one new database with the sample loaded.
func twoNodes(t testing.TB) (a, b *node, url string) {
	t.Helper()
	url = pgtest.URL(t)
	a = startNode(t, url, cluster.Options{})
	if _, err := seed.Load(context.Background(), a.Svc); err != nil {
		t.Fatal(err)
	}
	b = startNode(t, url, cluster.Options{})
	return a, b, url
}

type gqlError struct {
	Message    string
	Extensions map[string]any
}

// do sends a GraphQL request and decodes its data into out (if not nil); it returns the errors.
func do(t testing.TB, base, token, query string, vars map[string]any, out any) []gqlError {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode (status %d): %v", resp.StatusCode, err)
	}
	if out != nil && len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatal(err)
		}
	}
	return r.Errors
}

func must(t testing.TB, errs []gqlError) {
	t.Helper()
	if len(errs) > 0 {
		t.Fatalf("GraphQL errors: %+v", errs)
	}
}

func newReader(t testing.TB, base, name string) string {
	t.Helper()
	var out struct{ CreateReader struct{ Token string } }
	must(t, do(t, base, "", `mutation($s: String!, $n: String!) { createReader(input: {site: $s, displayName: $n}) { token } }`,
		map[string]any{"s": seed.SiteSlug, "n": name}, &out))
	return out.CreateReader.Token
}

func articleID(t testing.TB, base string) string {
	t.Helper()
	var out struct{ Article struct{ ID string } }
	must(t, do(t, base, "", `query($s: String!, $k: String!) { article(site: $s, key: $k) { id } }`,
		map[string]any{"s": seed.SiteSlug, "k": seed.ArticleKey}, &out))
	return out.Article.ID
}

func post(t testing.TB, base, token, article, body string) string {
	t.Helper()
	var out struct {
		AddComment struct{ Comment struct{ ID string } }
	}
	must(t, do(t, base, token, `mutation($a: ID!, $b: String!) { addComment(input: {articleId: $a, body: $b}) { comment { id } } }`,
		map[string]any{"a": article, "b": body}, &out))
	return out.AddComment.Comment.ID
}

// newest reads, anonymously (through the response cache), the IDs of the article's newest comments.
func newest(t testing.TB, base string) []string {
	t.Helper()
	var out struct {
		Article struct {
			Comments struct{ Nodes []struct{ ID string } }
		}
	}
	must(t, do(t, base, "", `query($s: String!, $k: String!) { article(site: $s, key: $k) { comments(first: 5, orderBy: NEWEST) { nodes { id } } } }`,
		map[string]any{"s": seed.SiteSlug, "k": seed.ArticleKey}, &out))
	var ids []string
	for _, n := range out.Article.Comments.Nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

// waitFor polls cond until it holds, at most 5 s (a generous bound: the notification takes milliseconds), and
// returns how long it took.
func waitFor(t testing.TB, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// percentile returns the p-th percentile of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// TestACommentOnAIsReadOnB: a comment posted on server A is in an anonymous read on server B, whose response
// cache held the thread without it, within the notification delay of A's acknowledgement; the test measures
// that delay.
func TestACommentOnAIsReadOnB(t *testing.T) {
	a, b, _ := twoNodes(t)
	token := newReader(t, a.URL, "Ada")
	article := articleID(t, a.URL)
	// A publishes nothing itself (its follower does, for every server), and B's caches hear of each article.
	var published atomic.Int64
	a.Svc.OnEvent(func(thread.Event) { published.Add(1) })
	var mu sync.Mutex
	changedOnB := map[int64]int{}
	invalidated := make(chan time.Time, 100)
	b.Svc.OnChange(func(id int64) {
		mu.Lock()
		changedOnB[id]++
		mu.Unlock()
		invalidated <- time.Now()
	})
	var delays, invalidations []time.Duration
	for i := range 50 {
		newest(t, b.URL) // B caches the thread as it is
		id := post(t, a.URL, token, article, "posted on A, read on B")
		acked := time.Now()
		delays = append(delays, waitFor(t, "B reads the comment", func() bool { return slices.Contains(newest(t, b.URL), id) }))
		// B's cache was told before the read above saw the comment: it may even come before A's answer did.
		invalidations = append(invalidations, max(0, (<-invalidated).Sub(acked)))
		if i == 0 {
			// A reads its own write at once: its cache heard of it before the acknowledgement.
			if !slices.Contains(newest(t, a.URL), id) {
				t.Fatal("A does not read its own comment")
			}
		}
	}
	t.Logf("commit on A → anonymous read on B: median %v, p99 %v, max %v", percentile(delays, 0.5), percentile(delays, 0.99), percentile(delays, 1))
	t.Logf("commit on A → B's cache invalid: median %v, p99 %v, max %v", percentile(invalidations, 0.5), percentile(invalidations, 0.99), percentile(invalidations, 1))
	if n := published.Load(); n != 0 {
		t.Errorf("A's service published %d events in process", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if changedOnB[0] != 0 || len(changedOnB) != 1 {
		t.Errorf("B's cache was told %v, want only the article", changedOnB)
	}
}

// wsClient is a graphql-transport-ws subscriber.
type wsClient struct {
	conn *websocket.Conn
	msgs chan json.RawMessage // the payloads of "next" messages, and of "error" and "complete" as they come
	end  error                // why the connection ended, once msgs is closed
}

// subscribe subscribes anonymously to an article's events, after a cursor ("": from now on).
func subscribe(t testing.TB, base, article, after string) *wsClient {
	t.Helper()
	return subscribeAs(t, base, "", article, after)
}

// subscribeAs subscribes as the reader whose token is given ("": anonymously).
func subscribeAs(t testing.TB, base, token, article, after string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	init := map[string]any{"type": "connection_init"}
	if token != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + token}
	}
	if err := wsjson.Write(ctx, conn, init); err != nil {
		t.Fatal(err)
	}
	var ack struct{ Type string }
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %v %v", ack, err)
	}
	vars := map[string]any{"a": article}
	if after != "" {
		vars["after"] = after
	}
	err = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($a: ID!, $after: String) { commentEvents(articleId: $a, after: $after) { cursor kind commentId } }`, "variables": vars}})
	if err != nil {
		t.Fatal(err)
	}
	c := &wsClient{conn: conn, msgs: make(chan json.RawMessage, 1024)}
	go func() {
		defer close(c.msgs)
		for {
			var m struct {
				Type    string
				Payload json.RawMessage
			}
			if err := wsjson.Read(context.Background(), conn, &m); err != nil {
				c.end = err
				return
			}
			switch m.Type {
			case "ping":
				_ = wsjson.Write(context.Background(), conn, map[string]string{"type": "pong"})
			case "next", "error", "complete":
				c.msgs <- append(json.RawMessage(m.Type+" "), m.Payload...)
			}
		}
	}()
	return c
}

type event struct{ Cursor, Kind, CommentID string }

// event waits for the next event, at most 5 s.
func (c *wsClient) event(t testing.TB) event {
	t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			t.Fatal("the subscription's connection closed")
		}
		raw, found := bytes.CutPrefix(m, []byte("next "))
		if !found {
			t.Fatalf("want an event, got %s", m)
		}
		var p struct {
			Data   struct{ CommentEvents event }
			Errors []gqlError
		}
		if err := json.Unmarshal(raw, &p); err != nil || len(p.Errors) > 0 {
			t.Fatalf("event %s: %v", raw, err)
		}
		return p.Data.CommentEvents
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return event{}
}

// TestASubscriberOnBReceivesACommentPostedOnA: a graphql-ws subscriber on B receives the events of writes on
// A, in order, and the test measures the delay from A's acknowledgement.
func TestASubscriberOnBReceivesACommentPostedOnA(t *testing.T) {
	a, b, _ := twoNodes(t)
	token := newReader(t, a.URL, "Ada")
	article := articleID(t, a.URL)
	sub := subscribe(t, b.URL, article, "")
	time.Sleep(100 * time.Millisecond) // the subscription starts
	var delays []time.Duration
	for range 50 {
		id := post(t, a.URL, token, article, "posted on A, live on B")
		acked := time.Now()
		e := sub.event(t)
		delays = append(delays, time.Since(acked))
		if e.Kind != "ADDED" || e.CommentID != id {
			t.Fatalf("event %+v, want ADDED of %s", e, id)
		}
	}
	t.Logf("commit on A → event delivered to a subscriber on B: median %v, p99 %v, max %v", percentile(delays, 0.5), percentile(delays, 0.99), percentile(delays, 1))
}

// TestACursorFromACatchesUpOnB: a subscriber of A that goes away and comes back to B with its last cursor
// receives what it missed, then what follows, with neither gap nor repeat.
func TestACursorFromACatchesUpOnB(t *testing.T) {
	a, b, _ := twoNodes(t)
	token := newReader(t, a.URL, "Ada")
	article := articleID(t, a.URL)
	subA := subscribe(t, a.URL, article, "")
	time.Sleep(100 * time.Millisecond)
	first := post(t, a.URL, token, article, "seen on A")
	e := subA.event(t)
	if e.CommentID != first {
		t.Fatalf("A's subscriber got %+v", e)
	}
	subA.conn.Close(websocket.StatusGoingAway, "")
	var missed []string
	for range 3 {
		missed = append(missed, post(t, a.URL, token, article, "missed"))
	}
	subB := subscribe(t, b.URL, article, e.Cursor)
	for _, id := range missed {
		if got := subB.event(t); got.CommentID != id || got.Kind != "ADDED" {
			t.Fatalf("caught up with %+v, want ADDED of %s", got, id)
		}
	}
	after := post(t, b.URL, token, article, "live on B")
	if got := subB.event(t); got.CommentID != after {
		t.Fatalf("then %+v, want %s", got, after)
	}
}

// TestSiteSettingsChangedOnOneServerApplyOnTheOther: settings changed through one server's service (as
// `threadline site` does) take effect on the other's cached reads and on its writes.
func TestSiteSettingsChangedOnOneServerApplyOnTheOther(t *testing.T) {
	a, b, _ := twoNodes(t)
	rules := func(base string) []string {
		var out struct{ Site struct{ Rules []string } }
		must(t, do(t, base, "", `query($s: String!) { site(slug: $s) { rules } }`, map[string]any{"s": seed.SiteSlug}, &out))
		return out.Site.Rules
	}
	rules(b.URL) // cached on B
	if _, err := a.Svc.UpdateSite(context.Background(), seed.SiteSlug, func(s *thread.SiteSettings) {
		s.Rules = []string{"Be kind"}
		s.Premoderation = true
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B reads the new rules", func() bool { return slices.Equal(rules(b.URL), []string{"Be kind"}) })
	// Premoderation on B: a new comment waits for a moderator.
	token := newReader(t, b.URL, "Bea")
	article := articleID(t, b.URL)
	var out struct {
		AddComment struct{ Comment struct{ Status string } }
	}
	must(t, do(t, b.URL, token, `mutation($a: ID!) { addComment(input: {articleId: $a, body: "held?"}) { comment { status } } }`,
		map[string]any{"a": article}, &out))
	if out.AddComment.Comment.Status != "PENDING" {
		t.Errorf("a comment on B after premoderation was turned on through A is %s", out.AddComment.Comment.Status)
	}
}

// TestACommandsWriteReachesRunningServers: a command (`threadline site ...`) that writes and exits at once
// wakes the running servers before it closes its pool: B, whose follower polls only every minute, reads the
// change within seconds.
func TestACommandsWriteReachesRunningServers(t *testing.T) {
	url := pgtest.URL(t)
	a := startNode(t, url, cluster.Options{})
	if _, err := seed.Load(context.Background(), a.Svc); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, url, cluster.Options{Poll: time.Minute})
	name := func() string {
		var out struct{ Site struct{ Name string } }
		must(t, do(t, b.URL, "", `query($s: String!) { site(slug: $s) { name } }`, map[string]any{"s": seed.SiteSlug}, &out))
		return out.Site.Name
	}
	name() // cached on B
	cmd, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := thread.NewService(cmd).UpdateSite(context.Background(), seed.SiteSlug, func(s *thread.SiteSettings) { s.Name = "Renamed" }); err != nil {
		t.Fatal(err)
	}
	cmd.Close()
	waitFor(t, "B reads the new name", func() bool { return name() == "Renamed" })
}

// TestServersStartingAtOnceLoadTheSampleOnce: servers started together on an empty database all load the
// sample (creating its site) without failing, and it is there once.
func TestServersStartingAtOnceLoadTheSampleOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	const servers = 4
	errs := make(chan error, servers)
	created := make(chan bool, servers)
	start := make(chan struct{})
	for range servers {
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		go func() {
			<-start
			ok, err := seed.Load(ctx, thread.NewService(db))
			errs <- err
			created <- ok
		}()
	}
	close(start)
	loaded := 0
	for range servers {
		if err := <-errs; err != nil {
			t.Errorf("a server starting: %v", err)
		}
		if <-created {
			loaded++
		}
	}
	if loaded != 1 {
		t.Errorf("the sample was loaded %d times, want once", loaded)
	}
}

// closed waits, at most 5 s (far below the minute of the periodic check of credentials), for the connection
// to end, and returns its close code and how long it took.
func (c *wsClient) closed(t testing.TB) (websocket.StatusCode, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m, open := <-c.msgs:
			if !open {
				return websocket.CloseStatus(c.end), time.Since(start)
			}
			if !bytes.HasPrefix(m, []byte("next ")) {
				t.Errorf("before it closed, the connection sent %s", m)
			}
		case <-deadline:
			t.Fatal("the connection is still open after 5 s")
		}
	}
}

// stillOpen checks that the connection neither ended nor sent an error for a while.
func (c *wsClient) stillOpen(t testing.TB) {
	t.Helper()
	select {
	case m, open := <-c.msgs:
		if !open {
			t.Errorf("the connection ended: %v", c.end)
		} else if !bytes.HasPrefix(m, []byte("next ")) {
			t.Errorf("the connection sent %s", m)
		}
	case <-time.After(300 * time.Millisecond):
	}
}

// TestAReaderSuspendedOrDeletedOnAIsDisconnectedOnB: a reader suspended through server A (a moderator's
// mutation), or deleting their account there, loses their live connections on server B as promptly as on A,
// closed with 4403 as a single server does (graph/credentials.go), not at B's periodic check of credentials
// a minute later; another reader's connection on B stays open. The test measures the delay.
func TestAReaderSuspendedOrDeletedOnAIsDisconnectedOnB(t *testing.T) {
	a, b, _ := twoNodes(t)
	key, err := a.Svc.AddModeratorKey(context.Background(), seed.SiteSlug, "moderation desk")
	if err != nil {
		t.Fatal(err)
	}
	article := articleID(t, a.URL)
	readerID := func(token string) string {
		var out struct{ Viewer struct{ ID string } }
		must(t, do(t, a.URL, token, `{ viewer { id } }`, nil, &out))
		return out.Viewer.ID
	}
	cases := []struct {
		name string
		act  func(token string) // through A
	}{
		{"suspended by a moderator", func(token string) {
			must(t, do(t, a.URL, key, `mutation($r: ID!) { suspendReader(input: {readerId: $r, days: 3, reason: "Cool down."}) { reader { id } } }`,
				map[string]any{"r": readerID(token)}, nil))
		}},
		{"account deleted", func(token string) {
			must(t, do(t, a.URL, token, `mutation { deleteMyAccount(input: {confirm: true}) { comments } }`, nil, nil))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target, bystander := newReader(t, a.URL, "Target"), newReader(t, a.URL, "Bystander")
			onB, otherOnB := subscribeAs(t, b.URL, target, article, ""), subscribeAs(t, b.URL, bystander, article, "")
			onA := subscribeAs(t, a.URL, target, article, "")
			time.Sleep(100 * time.Millisecond) // the subscriptions start
			start := time.Now()
			c.act(target)
			acked := time.Since(start)
			code, delay := onB.closed(t)
			if code != 4403 {
				t.Errorf("B closed the connection with %d, want 4403", code)
			}
			if codeA, _ := onA.closed(t); codeA != code {
				t.Errorf("A closed the connection with %d, B with %d", codeA, code)
			}
			otherOnB.stillOpen(t)
			t.Logf("acknowledged by A in %v; connection on B closed %v after", acked, delay)
		})
	}
}
