package widget_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/store/storetest"
	"github.com/threadline/threadline/thread"
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
	_, svc := storetest.Open(t)
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
