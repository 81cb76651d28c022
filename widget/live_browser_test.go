package widget_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/store/sqlite/sqlitetest"
	"github.com/threadline/threadline/thread"
	"github.com/threadline/threadline/widget/assets"
)

// restartable is a Threadline server that a test can stop, taking every connection down with it (WebSockets
// too), and start again on the same address, as a deployment restarts.
type restartable struct {
	addr string
	svc  *thread.Service

	mu    sync.Mutex
	srv   *http.Server
	conns map[net.Conn]bool
}

func (r *restartable) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &http.Server{Handler: server.New(r.svc, server.Options{Log: log}), ConnState: func(c net.Conn, s http.ConnState) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if s == http.StateClosed {
			delete(r.conns, c)
		} else {
			r.conns[c] = true
		}
	}}
	r.mu.Lock()
	r.srv, r.conns = srv, map[net.Conn]bool{}
	r.mu.Unlock()
	go srv.Serve(ln)
}

func (r *restartable) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.srv.Close()
	for c := range r.conns { // hijacked ones, which Close leaves open
		c.Close()
	}
}

// liveIs waits until the widget's live connection is in state.
func liveIs(t *testing.T, b context.Context, state string) {
	t.Helper()
	run(t, b, chromedp.Poll[bool](`document.querySelector('#threadline').dataset.live === "`+state+`"`,
		chromedp.WithPollingTimeout(20*time.Second)))
}

// TestLiveUpdatesSurviveARestart: one page posts, the other sees the comment arrive, behind a "new comments"
// button; the server restarts; the watching page reconnects, catches up on what was posted while it was
// away, and goes on receiving.
func TestLiveUpdatesSurviveARestart(t *testing.T) {
	_, svc := sqlitetest.Open(t)
	ctx := context.Background()
	if _, err := seed.Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	api := &restartable{addr: "127.0.0.1:0", svc: svc}
	api.start(t)
	t.Cleanup(api.stop)
	url := "http://" + api.addr + "/embed/thread?site=demo&article=social-credit"

	watcher, poster := newBrowser(t), newBrowser(t)
	for _, b := range []context.Context{watcher, poster} {
		if err := chromedp.Do(b, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		run(t, b, takenOver)
		liveIs(t, b, "live")
	}
	click(t, watcher, `.tl-sort-btn[data-order="NEWEST"]`)
	waitText(t, watcher, ".tl-list > .tl-comment:first-child .tl-body", "quite progressive")

	post := func(text string) {
		t.Helper()
		typeInto(t, poster, "#tl-compose-top .tl-text", text)
		click(t, poster, "#tl-compose-top .tl-send")
		waitText(t, poster, ".tl-list > .tl-comment:first-child .tl-body", text)
	}
	showNew := func(text string) {
		t.Helper()
		waitText(t, watcher, "#tl-fresh", "Show 1 new comment")
		click(t, watcher, "#tl-fresh")
		waitText(t, watcher, ".tl-list > .tl-comment:first-child .tl-body", text)
	}

	typeInto(t, poster, "#tl-compose-top .tl-name", "Poster")
	post("Before the restart")
	showNew("Before the restart")

	api.stop()
	liveIs(t, watcher, "offline")
	// Written while the watcher is away, and the new server's bus knows nothing of it.
	reader, _, err := svc.CreateReader(ctx, "demo", "Elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	article, err := svc.Article(ctx, "demo", "social-credit")
	if err != nil {
		t.Fatal(err)
	}
	down, err := svc.AddComment(thread.WithViewer(ctx, reader), thread.NewComment{ArticleID: article.ID, Body: "While it was down"})
	if err != nil {
		t.Fatal(err)
	}
	api.start(t)
	liveIs(t, watcher, "live")
	waitText(t, watcher, ".tl-list > .tl-comment:first-child .tl-body", "While it was down")

	liveIs(t, poster, "live")
	post("After the restart")
	showNew("After the restart")

	// Replies and likes show where they belong, at once.
	const second = ".tl-list > .tl-comment:nth-child(2)" // "While it was down", under the new one
	as := thread.WithViewer(ctx, reader)
	if _, err := svc.AddComment(as, thread.NewComment{ArticleID: article.ID, ParentID: down.ID, Body: "A live reply"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LikeComment(as, down.ID); err != nil {
		t.Fatal(err)
	}
	waitText(t, watcher, second+" .tl-replies .tl-body", "A live reply")
	waitText(t, watcher, second+" .tl-like", "♥ 1")
}

// socketWatch counts the WebSockets a page opens to the API (from the browser's Network.webSocketCreated
// events), and records in the page the code of every close it sees.
type socketWatch struct {
	mu      sync.Mutex
	created int
}

func watchSockets(t *testing.T, b context.Context) *socketWatch {
	t.Helper()
	w := &socketWatch{}
	if err := chromedp.Listen(b, func(ev any) {
		if e, ok := ev.(*network.EventWebSocketCreated); ok && strings.HasSuffix(e.URL, "/graphql") {
			w.mu.Lock()
			w.created++
			w.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	const recordCloses = `window.__closes = []; (() => {
	  const Native = window.WebSocket;
	  window.WebSocket = function (...args) {
	    const ws = new Native(...args);
	    ws.addEventListener("close", (e) => window.__closes.push(e.code));
	    return ws;
	  };
	})();`
	if _, err := chromedp.Call(b, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordCloses}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *socketWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.created
}

// openWatched opens the thread as the reader with token, counting its sockets from the start.
func (s *site) openWatched(t *testing.T, token string) (context.Context, *socketWatch) {
	t.Helper()
	b := newBrowser(t)
	w := watchSockets(t, b)
	s.openIn(t, b, token)
	liveIs(t, b, "live")
	return b, w
}

// quietFor waits d and fails the test if the page opened more than most sockets since it had opened before.
func (w *socketWatch) quietFor(t *testing.T, b context.Context, before, most int, d time.Duration) {
	t.Helper()
	if err := chromedp.Do(b, chromedp.Sleep(d)); err != nil {
		t.Fatal(err)
	}
	if n := w.count() - before; n > most {
		closes := run(t, b, chromedp.Evaluate[[]int](`window.__closes`))
		t.Errorf("the widget opened %d WebSockets, want at most %d (closes: %v)", n, most, closes)
	}
}

// TestRevokedLiveConnectionSignsOut: a moderator's widget is live; the site rotates its secret, which
// withdraws every session signed with the old one; the server closes the socket with 4403. The widget asks the
// API once whether its token still holds, is told it does not, signs the reader out and comes back live as
// an anonymous reader, with no moderator tools, and does not go on knocking with the dead token.
func TestRevokedLiveConnectionSignsOut(t *testing.T) {
	s := newSite(t)
	modToken, _ := s.signedIn(t, s.signingSecret(t), "sam", "Sam", true)
	b, sockets := s.openWatched(t, modToken)
	waitText(t, b, ".tl-queue h2", "Moderation")
	before := sockets.count()

	if _, err := s.svc.RotateSecret(context.Background(), seed.SiteSlug); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](`window.__closes.includes(4403) && localStorage.getItem("threadline:demo:token") === null &&
	  document.querySelector(".tl-queue") === null && document.querySelector("#threadline").dataset.live === "live"`,
		chromedp.WithPollingTimeout(15*time.Second)))
	// One anonymous reconnection; a widget that retried the dead token would have opened three or four more
	// by now (backoff from half a second).
	sockets.quietFor(t, b, before, 2, 5*time.Second)
	if state := run(t, b, chromedp.Evaluate[string](`document.querySelector("#threadline").dataset.live`)); state != "live" {
		t.Errorf("after the sign-out the live connection is %q", state)
	}
}

// TestWithdrawnRightsReconnectOnce: a reader is suspended while their widget is live. The server closes the
// socket with 4403 (what the token grants changed), but the API still takes the token: the widget keeps the
// reader signed in, reconnects once with the token, and reads the thread again, which now tells the reader of
// the suspension.
func TestWithdrawnRightsReconnectOnce(t *testing.T) {
	s := newSite(t)
	secret := s.signingSecret(t)
	token, reader := s.signedIn(t, secret, "ada", "Ada", false)
	_, moderator := s.signedIn(t, secret, "sam", "Sam", true)
	b, sockets := s.openWatched(t, token)
	before := sockets.count()

	if _, err := s.svc.SuspendReader(thread.WithViewer(context.Background(), moderator), reader.ID, 3, "Cooling off"); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](`window.__closes.includes(4403) && document.querySelector(".tl-suspended") !== null &&
	  document.querySelector("#threadline").dataset.live === "live"`, chromedp.WithPollingTimeout(15*time.Second)))
	sockets.quietFor(t, b, before, 2, 5*time.Second)
	if got := run(t, b, chromedp.Evaluate[string](`localStorage.getItem("threadline:demo:token") || ""`)); got != token {
		t.Errorf("the reader's token was dropped: %q", got)
	}
}

// TestProtocolClosesBackOffAndStop: a server (or a proxy in front of it) that acknowledges every connection
// and then closes it for a protocol breach (4409, as for a duplicate subscription ID) must not be asked again
// every half second for as long as the page is open: the widget backs off, gives up after a few tries, and
// shows that it is offline.
func TestProtocolClosesBackOffAndStop(t *testing.T) {
	if !assets.HasWasm() {
		t.Fatal("the widget's WebAssembly is not built: run `make wasm` (make test does)")
	}
	_, svc := sqlitetest.Open(t)
	if _, err := seed.Load(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	api := server.New(svc, server.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			api.ServeHTTP(w, r)
			return
		}
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if _, _, err := ws.Read(ctx); err == nil { // connection_init
			_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_ack"}`))
			_, _, _ = ws.Read(ctx) // subscribe
		}
		ws.Close(4409, "Subscriber for thread-1 already exists")
	}))
	t.Cleanup(srv.Close)

	b := newBrowser(t)
	sockets := watchSockets(t, b)
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+"/embed/thread?site=demo&article=social-credit")); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
	// Five tries, a second apart at first and doubling (15 s and jitter in all), and then no more.
	run(t, b, chromedp.Poll[bool](`window.__closes.length >= 5 && document.querySelector("#threadline").dataset.live === "offline"`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if n := sockets.count(); n > 5 {
		t.Errorf("the widget opened %d WebSockets before it stopped, want at most 5", n)
	}
	sockets.quietFor(t, b, sockets.count(), 0, 5*time.Second)
	if state := run(t, b, chromedp.Evaluate[string](`document.querySelector("#threadline").dataset.live`)); state != "offline" {
		t.Errorf("the live state says %q, want offline", state)
	}
}
