package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/threadline/threadline/graph"
	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
)

// logBuffer collects what the server logs, from any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLoggedModFixture is newModFixture with every log of the server (its own, net/http's and the standard
// logger's, which gqlgen writes to) kept for the test to read.
func newLoggedModFixture(tb testing.TB, set thread.SiteSettings) (*modFixture, *logBuffer) {
	tb.Helper()
	ctx := context.Background()
	logs := &logBuffer{}
	db, svc := teststore.Open(tb)
	clock := &fakeClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	svc.Now = clock.now
	if _, err := seed.Load(ctx, svc); err != nil {
		tb.Fatal(err)
	}
	opts := server.Options{Log: slog.New(slog.NewTextHandler(logs, nil)), Pools: db.Pools()}
	lv := db.Live(tb, svc, 0, 0)
	opts.Health, opts.Ready = lv.Health, lv.Ready
	if lv.Bus != nil {
		opts.Bus = lv.Bus
	}
	hs := httptest.NewUnstartedServer(server.New(svc, opts))
	hs.Config.ErrorLog = log.New(logs, "", 0)
	hs.Start()
	tb.Cleanup(hs.Close)
	prev := log.Writer()
	log.SetOutput(logs)
	tb.Cleanup(func() { log.SetOutput(prev) })

	set.Name = "Blog"
	blog, secret, key, err := svc.CreateSite(ctx, "blog", set)
	if err != nil {
		tb.Fatal(err)
	}
	_, otherSecret, otherKey, err := svc.CreateSite(ctx, "other", thread.SiteSettings{Name: "Other"})
	if err != nil {
		tb.Fatal(err)
	}
	fx := &modFixture{testServer: &testServer{URL: hs.URL, DB: db, Svc: svc, clock: clock},
		secret: secret, key: key, otherSecret: otherSecret, otherKey: otherKey}
	fx.article = fx.newArticle(tb, blog.ID)
	return fx, logs
}

// rawWS opens a graphql-transport-ws connection and sends nothing.
func (s *testServer) rawWS(tb testing.TB) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.URL, "http", "ws", 1)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

// refusal sends msg as the connection's first message and returns how the server closed the connection,
// within a second, and what it sent first.
func (s *testServer) refusal(tb testing.TB, msg []byte) (websocket.CloseError, []string) {
	tb.Helper()
	ce, sent, err := s.tryRefusal(msg)
	if err != nil {
		tb.Fatal(err)
	}
	return ce, sent
}

// tryRefusal is refusal for any goroutine: it returns what went wrong.
func (s *testServer) tryRefusal(msg []byte) (websocket.CloseError, []string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.URL, "http", "ws", 1)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return websocket.CloseError{}, nil, err
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return websocket.CloseError{}, nil, err
	}
	var sent []string
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				return ce, sent, fmt.Errorf("no close frame within a second: %w (after %q)", err, sent)
			}
			return ce, sent, nil
		}
		sent = append(sent, string(b))
	}
}

func initWith(authorization string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": authorization}})
	return b
}

// unsigned is a JWT with alg "none": claims anyone could write.
func unsigned(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
}

// openFDs counts the process's open file descriptors.
func openFDs(tb testing.TB) int {
	tb.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skip("no /proc/self/fd:", err)
	}
	return len(entries)
}

// TestRefusedConnectionInitIsClosedAndFreed: connection_init with credentials refused for any reason is closed
// at once with 4403 (graphql-transport-ws's Forbidden), logs no panic, and leaves nothing behind: after 300 of
// them the process holds the descriptors and goroutines it held before, and the address may again hold its
// full share of connections waiting for their init.
func TestRefusedConnectionInitIsClosedAndFreed(t *testing.T) {
	fx, logs := newLoggedModFixture(t, thread.SiteSettings{})
	now := fx.clock.now()
	claims := func(aud string, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"sub": "someone", "name": "Someone", "aud": aud, "exp": exp.Unix(), "moderator": true}
	}
	later := now.Add(time.Hour)
	cases := []struct {
		name string
		init []byte
	}{
		{"unknown reader token", initWith("Bearer tl_" + strings.Repeat("x", 43))},
		{"alg none JWT", initWith("Bearer " + unsigned(map[string]any{"sub": "someone", "name": "Someone", "aud": "blog", "exp": later.Unix(), "moderator": true}))},
		{"JWT signed with another secret", initWith("Bearer " + sign(t, "not the blog's secret", claims("blog", later)))},
		{"expired JWT", initWith("Bearer " + sign(t, fx.secret, claims("blog", now.Add(-2*time.Hour))))},
		{"another site's token naming the blog", initWith("Bearer " + sign(t, fx.otherSecret, claims("blog", later)))},
		{"token naming no site", initWith("Bearer " + sign(t, fx.secret, claims("nowhere", later)))},
		{"unknown moderator key", initWith("Bearer tlm_" + strings.Repeat("k", 43))},
		{"not a bearer token", initWith("Basic dXNlcjpwYXNzd29yZA==")},
		{"not a Threadline token", initWith("Bearer hello")},
		{"Authorization of 100 KB", initWith("Bearer " + strings.Repeat("A", 100<<10))},
		{"Authorization of 60 KB", initWith("Bearer " + strings.Repeat("A", 60<<10))},
		{"Authorization not a string", []byte(`{"type":"connection_init","payload":{"Authorization":42}}`)},
		{"payload a string", []byte(`{"type":"connection_init","payload":"Bearer tl_x"}`)},
		{"payload an array", []byte(`{"type":"connection_init","payload":["Bearer tl_x"]}`)},
		{"payload a number", []byte(`{"type":"connection_init","payload":1}`)},
		{"connection_init of 1 MB", []byte(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + strings.Repeat("A", 1<<20) + `"}}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			ce, sent := fx.refusal(t, c.init)
			if ce.Code != 4403 || ce.Reason != "Forbidden" || len(sent) > 0 {
				t.Errorf("closed with %d %q after %q, want 4403 Forbidden and nothing else", ce.Code, ce.Reason, sent)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("refused after %v", took)
			}
		})
	}
	if t.Failed() {
		return
	}

	refuse300 := func() {
		var wg sync.WaitGroup
		work := make(chan []byte)
		for range 8 { // well under the connections an address may hold waiting
			wg.Go(func() {
				for msg := range work {
					if ce, _, err := fx.tryRefusal(msg); err != nil || ce.Code != 4403 {
						t.Errorf("closed with %d: %v", ce.Code, err)
					}
				}
			})
		}
		for i := range 300 {
			work <- cases[i%len(cases)].init
		}
		close(work)
		wg.Wait()
	}
	// A first round grows the database's connection pool to what 8 at once need (descriptors it keeps, by
	// design); the second is measured.
	refuse300()
	time.Sleep(200 * time.Millisecond) // the close handshakes of the cases above end
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	refuse300()
	var nowFDs, nowGoroutines int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if nowFDs, nowGoroutines = openFDs(t), runtime.NumGoroutine(); nowFDs <= fds+2 && nowGoroutines <= goroutines+4 {
			break
		}
	}
	t.Logf("after 300 refused connections: %d descriptors (%d before), %d goroutines (%d before)", nowFDs, fds, nowGoroutines, goroutines)
	if nowFDs > fds+2 || nowGoroutines > goroutines+4 {
		t.Errorf("after 300 refused connections the process holds %d descriptors (%d before) and %d goroutines (%d before)",
			nowFDs, fds, nowGoroutines, goroutines)
	}

	// The address's count of connections waiting for their init went back to zero: it may hold its share again.
	var waiting []*websocket.Conn
	for range graph.DefaultPendingPerClient {
		waiting = append(waiting, fx.rawWS(t))
	}
	for _, c := range waiting {
		c.CloseNow()
	}
	if strings.Contains(strings.ToLower(logs.String()), "panic") {
		t.Errorf("the log tells of a panic:\n%.2000s", logs.String())
	}
}

// closeOf waits for the server to close a connection that is being read, and returns its close code with the
// messages it sent meanwhile.
func closeOf(tb testing.TB, ws *wsClient, within time.Duration) (websocket.StatusCode, []wsMessage) {
	tb.Helper()
	var got []wsMessage
	deadline := time.After(within)
	for {
		select {
		case m, open := <-ws.msgs:
			if !open {
				return websocket.CloseStatus(ws.end), got
			}
			got = append(got, m)
		case <-deadline:
			tb.Fatalf("the connection is still open after %v (received %+v)", within, got)
		}
	}
}

// TestLiveCredentialsAreRechecked: a live connection lasts only as long as its credentials. When they stop
// holding (the site rotates its secret, here or in another process; the reader is suspended or deletes their
// account; the session expires), the server closes the connection with 4403, and nothing more reaches it.
// Connections whose credentials still hold are left alone.
func TestLiveCredentialsAreRechecked(t *testing.T) {
	const within = 3 * time.Second
	ctx := context.Background()

	// Each rotation returns the new secret.
	rotations := map[string]func(*testing.T, *modFixture) string{
		"rotate-secret": func(t *testing.T, fx *modFixture) string {
			secret, err := fx.Svc.RotateSecret(ctx, "blog")
			if err != nil {
				t.Fatal(err)
			}
			return secret
		},
		"rotate-secret by another process": func(t *testing.T, fx *modFixture) string {
			if _, err := fx.DB.Raw(t).Exec(`UPDATE sites SET signing_secret = 'rotated elsewhere' WHERE slug = 'blog'`); err != nil {
				t.Fatal(err)
			}
			// What tells the service of another process's change: SQLite's watcher (see TestServeSeesOtherProcessesWrites), or PostgreSQL's notifications.
			fx.Svc.ExternalChange()
			return "rotated elsewhere"
		},
	}
	for name, rotate := range rotations {
		t.Run(name, func(t *testing.T) {
			fx := newModFixture(t, thread.SiteSettings{Premoderation: true})
			moderator, _ := fx.user(t, "Mo", true)
			mod := fx.dialWS(t, moderator)
			mod.subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article})
			key := fx.dialWS(t, fx.key)
			key.subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article})
			anonymous := fx.dialWS(t, "")
			anonymous.subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article})
			time.Sleep(100 * time.Millisecond)

			secret := rotate(t, fx)
			code, got := closeOf(t, mod, within)
			if code != 4403 || len(got) > 0 {
				t.Errorf("the moderator's connection closed with %d after %+v, want 4403", code, got)
			}
			// A comment held for moderators reaches the moderator key's connection, still open, and no other.
			author, _ := fx.signIn(t, "blog", fx.hostToken(t, secret, "author", "Ada", false))
			fx.addComment(t, author, fx.article, "", "Held for a moderator")
			if e := key.event(t); e.Kind != "ADDED" || e.Comment == nil || e.Comment.Status != "PENDING" {
				t.Errorf("the moderator key's connection got %+v", e)
			}
			anonymous.quiet(t)
			// The old session is refused from now on.
			if ce, _ := fx.refusal(t, initWith("Bearer "+moderator)); ce.Code != 4403 {
				t.Errorf("the old session connects again: %d", ce.Code)
			}
		})
	}

	t.Run("Server-Sent Events stream", func(t *testing.T) {
		fx := newModFixture(t, thread.SiteSettings{Premoderation: true})
		moderator, _ := fx.user(t, "Mo", true)
		body, _ := json.Marshal(map[string]any{"query": eventsQuery, "variables": map[string]any{"a": fx.article}})
		req, err := http.NewRequest(http.MethodPost, fx.URL+"/graphql", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+moderator)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			scanner := bufio.NewScanner(resp.Body)
			for scanner.Scan() {
				lines <- scanner.Text()
			}
		}()
		if first := <-lines; first != ":" {
			t.Fatalf("the stream opened with %q", first)
		}
		time.Sleep(100 * time.Millisecond)
		if _, err := fx.Svc.RotateSecret(ctx, "blog"); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(within)
		for {
			select {
			case line, open := <-lines:
				if !open {
					return
				}
				if strings.HasPrefix(line, "data: ") && !strings.Contains(line, `"errors"`) {
					t.Errorf("after the rotation the stream sent %s", line)
				}
			case <-deadline:
				t.Fatalf("the stream is still open %v after the rotation", within)
			}
		}
	})

	t.Run("suspension", func(t *testing.T) {
		fx := newModFixture(t, thread.SiteSettings{})
		session, readerID := fx.user(t, "Bo", false)
		reader := fx.dialWS(t, session)
		reader.subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article})
		other, _ := fx.user(t, "Cy", false)
		bystander := fx.dialWS(t, other)
		time.Sleep(100 * time.Millisecond)
		fx.mutate(t, fx.key, `mutation($r: ID!) { suspendReader(input: {readerId: $r, days: 3, reason: "Cool down."}) { reader { id } } }`,
			map[string]any{"r": readerID})
		if code, _ := closeOf(t, reader, within); code != 4403 {
			t.Errorf("the suspended reader's connection closed with %d, want 4403", code)
		}
		bystander.quiet(t)
		// A suspended reader may still read: they connect again, and the connection lasts.
		again := fx.dialWS(t, session)
		again.quiet(t)
	})

	t.Run("account deleted", func(t *testing.T) {
		fx := newModFixture(t, thread.SiteSettings{})
		article := fx.articleID(t)
		_, token := fx.newReader(t, "Dee")
		ws := fx.dialWS(t, token)
		ws.subscribe(t, "1", eventsQuery, map[string]any{"a": article})
		time.Sleep(100 * time.Millisecond)
		fx.mutate(t, token, `mutation { deleteMyAccount(input: {confirm: true}) { comments } }`, nil)
		if code, _ := closeOf(t, ws, within); code != 4403 {
			t.Errorf("the deleted reader's connection closed with %d, want 4403", code)
		}
		if ce, _ := fx.refusal(t, initWith("Bearer "+token)); ce.Code != 4403 {
			t.Errorf("the deleted reader's token connects again: %d", ce.Code)
		}
	})

	t.Run("session expiry", func(t *testing.T) {
		fx := newModFixture(t, thread.SiteSettings{})
		// A session that expired 59 s ago is still within the minute's grace given to clocks that disagree: it
		// is accepted, for about a second more.
		expired := sign(t, fx.secret, jwt.MapClaims{"sub": "late", "name": "Late", "moderator": true,
			"exp": fx.clock.now().Add(-59 * time.Second).Unix()})
		session, _ := fx.signIn(t, "blog", expired)
		ws := fx.dialWS(t, session)
		ws.subscribe(t, "1", eventsQuery, map[string]any{"a": fx.article})
		start := time.Now()
		if code, _ := closeOf(t, ws, within); code != 4403 {
			t.Errorf("the expired session's connection closed with %d, want 4403", code)
		}
		t.Logf("closed %v after it was accepted", time.Since(start))
	})
}
