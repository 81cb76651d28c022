package widget

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// liveQuery is the widget's subscription: every change to the thread, with what a page shows of a comment.
const liveQuery = `subscription($article: ID!, $after: String) {
  commentEvents(articleId: $article, after: $after) { cursor kind commentId parentId comment { ...comment } } }
` + commentFragment

// liveConn is the widget's WebSocket to the API, speaking graphql-transport-ws.
type liveConn struct {
	ws      app.Value
	funcs   []app.Func // the handlers given to the socket, released when it closes
	token   string     // the credentials the socket was opened with
	after   string     // the cursor of the last event applied, to catch up from after a reconnection
	retries int        // failed connections in a row, for the backoff
	// breaches counts the server's protocol closes (44xx) since the last connection that ended otherwise. It
	// is not reset by connection_ack, since a server that acknowledges and then closes with 4409 or 4429 would
	// otherwise be retried at the shortest backoff forever.
	breaches int
	// checked is when the API was last asked about the token after a 4403 (see checkRefusedToken). Another
	// 4403 within tokenCheckEvery is a breach, not a reason to check and reconnect at once again.
	checked time.Time
	failed  bool // the server answered an error to the subscription: the widget closed the socket
	stopped bool // closed by the widget itself (the page is hidden), not to be reopened
	subs    int  // subscriptions started on this socket, to name the next
}

// WebSocket close codes of graphql-transport-ws that the server sends (see graph/websocket.go).
const (
	closeForbidden = 4403 // the credentials were refused, or withdrawn while the connection was live
	// maxBreaches is how many protocol closes in a row the widget takes before it stops reconnecting and
	// stays offline (until the page is hidden and shown again): a server or proxy that keeps refusing must not
	// be asked again every 30 seconds for as long as the page stays open.
	maxBreaches = 5
	// tokenCheckEvery bounds how often a 4403 makes the widget ask the API about its token.
	tokenCheckEvery = time.Minute
)

// protocolClose reports whether code is one of the server's 44xx closes: the client broke the protocol
// (4400, 4401, 4408, 4409, 4429) or was refused (4403).
func protocolClose(code int) bool { return code >= 4400 && code < 4500 }

// liveEvent is an event as liveQuery returns it.
type liveEvent struct {
	Cursor    string      `json:"cursor"`
	Kind      string      `json:"kind"`
	CommentID string      `json:"commentId"`
	ParentID  *string     `json:"parentId"`
	Comment   *gqlComment `json:"comment"`
}

// startLive opens the live connection, and keeps it open while the page is visible: a hidden page closes it,
// and a visible one opens it again, catching up on what happened meanwhile.
func (v *ThreadView) startLive(ctx app.Context) {
	doc := app.Window().Get("document")
	onVisibility := app.FuncOf(func(app.Value, []app.Value) any {
		hidden := doc.Get("visibilityState").String() == "hidden"
		ctx.Dispatch(func(ctx app.Context) {
			if hidden {
				v.closeLive()
			} else if v.live == nil || v.live.stopped {
				if v.live != nil {
					v.live.breaches = 0 // the reader came back: a widget that gave up tries afresh, as on a reload
				}
				v.connectLive(ctx)
			}
		})
		return nil
	})
	doc.Call("addEventListener", "visibilitychange", onVisibility)
	v.connectLive(ctx)
}

// restartLive reconnects, for a reader whose credentials changed: what they may see changes with them.
func (v *ThreadView) restartLive(ctx app.Context) {
	if v.live == nil {
		return
	}
	after := v.live.after
	v.closeLive()
	v.connectLive(ctx)
	v.live.after = after
}

// connectLive opens a WebSocket to the API and subscribes to the thread.
func (v *ThreadView) connectLive(ctx app.Context) {
	ctx = v.lasting(ctx)
	prev := v.live
	c := &liveConn{token: v.token}
	if prev != nil {
		c.after, c.retries, c.breaches, c.checked = prev.after, prev.retries, prev.breaches, prev.checked
	}
	v.live = c
	v.liveState = "connecting"
	loc := app.Window().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	c.ws = app.Window().Get("WebSocket").New(scheme+loc.Get("host").String()+"/graphql", "graphql-transport-ws")
	send := func(msg map[string]any) {
		b, _ := json.Marshal(msg)
		c.ws.Call("send", string(b))
	}
	token, articleID := c.token, v.thread.ArticleID
	on := func(event string, fn func(app.Value)) {
		f := app.FuncOf(func(_ app.Value, args []app.Value) any {
			fn(args[0])
			return nil
		})
		c.funcs = append(c.funcs, f)
		c.ws.Set(event, f)
	}
	subscribe := func() {
		c.subs++
		vars := map[string]any{"article": articleID}
		if c.after != "" {
			vars["after"] = c.after
		}
		send(map[string]any{"id": c.current(), "type": "subscribe", "payload": map[string]any{"query": liveQuery, "variables": vars}})
	}
	on("onopen", func(app.Value) {
		init := map[string]any{"type": "connection_init"}
		if token != "" {
			init["payload"] = map[string]any{"Authorization": "Bearer " + token}
		}
		send(init)
	})
	on("onmessage", func(e app.Value) {
		var m struct {
			ID      string          `json:"id"`
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal([]byte(e.Get("data").String()), &m) != nil {
			return
		}
		switch m.Type {
		case "ping":
			send(map[string]any{"type": "pong"})
		case "connection_ack":
			subscribe()
			ctx.Dispatch(func(ctx app.Context) {
				if v.live == c {
					c.retries, v.liveState = 0, "live"
				}
			})
		case "next":
			var p struct {
				Data *struct {
					CommentEvents liveEvent `json:"commentEvents"`
				} `json:"data"`
			}
			if json.Unmarshal(m.Payload, &p) == nil && p.Data != nil {
				ctx.Dispatch(func(ctx app.Context) {
					if v.live == c {
						v.applyLive(ctx, p.Data.CommentEvents)
					}
				})
			}
		case "complete":
			// The server ended the subscription after a RESYNC: subscribe afresh at once, on the same socket,
			// while the thread reloads; what both bring is shown once.
			ctx.Dispatch(func(ctx app.Context) {
				if v.live == c && m.ID == c.current() {
					subscribe()
				}
			})
		case "error":
			// The subscription was refused: reconnect, with backoff, counted as a breach so that a refusal that
			// repeats after every connection_ack does not reconnect at the shortest backoff forever.
			ctx.Dispatch(func(app.Context) { c.failed = true })
			c.ws.Call("close")
		}
	})
	on("onclose", func(e app.Value) {
		code := e.Get("code").Int()
		ctx.Dispatch(func(ctx app.Context) {
			if v.live != c {
				return
			}
			c.release()
			if c.stopped {
				return
			}
			v.liveState = "offline"
			switch {
			case code == closeForbidden && c.token != "" && time.Since(c.checked) > tokenCheckEvery:
				c.checked = time.Now()
				v.checkRefusedToken(ctx, c)
			case protocolClose(code) || c.failed:
				c.breaches++
				v.retryLive(ctx, c, max(c.retries, c.breaches))
			default:
				c.breaches = 0
				v.retryLive(ctx, c, c.retries)
			}
		})
	})
}

// retryLive opens the live connection again after a backoff that grows with failures, from a quarter of a
// second to 30 seconds, with jitter so that the readers of a restarted server do not all come back at once.
// After maxBreaches protocol closes in a row it gives up and leaves the page offline.
func (v *ThreadView) retryLive(ctx app.Context, c *liveConn, failures int) {
	if c.breaches >= maxBreaches {
		c.stopped = true // a visible page that was hidden tries once more (see startLive)
		return
	}
	c.retries++
	failures++
	delay := min(30*time.Second, time.Duration(250<<min(failures, 7))*time.Millisecond)
	delay += time.Duration(rand.Int64N(int64(delay / 4)))
	time.AfterFunc(delay, func() {
		ctx.Dispatch(func(ctx app.Context) {
			if v.live == c {
				v.connectLive(ctx)
			}
		})
	})
}

// checkRefusedToken handles a 4403 on a connection that carried the reader's token: the server refused the
// token, or withdrew it while the connection was live (the site rotated its secret, the reader was suspended
// or deleted, the session expired). Sending the same token again would be refused again, forever; so the
// widget asks the API once, over HTTP, whether it still takes the token. If not, the reader is signed out and
// the connection reopens anonymously. If it does, what the token grants changed (a moderator who is no longer
// one, a suspended reader): the connection reopens once with it, and the thread and the reader's view of it
// are read again. Another 4403 within tokenCheckEvery is handled as any other protocol close.
func (v *ThreadView) checkRefusedToken(ctx app.Context, c *liveConn) {
	token := c.token
	ctx.Async(func() {
		err := call(token, tokenCheckQuery, nil, nil)
		ctx.Dispatch(func(ctx app.Context) {
			if v.live != c || c.stopped {
				return // the reader signed in or out meanwhile, or the page was hidden: that reconnected
			}
			var refused *gqlError
			switch {
			case errors.As(err, &refused) && refused.code == "UNAUTHENTICATED":
				if v.token == token {
					v.signOut(ctx) // reconnects anonymously
				} else {
					v.connectLive(ctx) // the reader's newer token
				}
			case err != nil: // the API could not say: try again later, as after any refusal
				c.breaches++
				v.retryLive(ctx, c, max(c.retries, c.breaches))
			default:
				v.connectLive(ctx)
				v.reload(ctx)
			}
		})
	})
}

// closeLive closes the live connection for good, until connectLive.
func (v *ThreadView) closeLive() {
	if c := v.live; c != nil && !c.stopped {
		c.stopped = true
		v.liveState = "paused"
		c.ws.Call("close")
	}
}

// current names the socket's subscription.
func (c *liveConn) current() string { return "thread-" + strconv.Itoa(c.subs) }

func (c *liveConn) release() {
	for _, f := range c.funcs {
		f.Release()
	}
	c.funcs = nil
}

// applyLive changes the page as an event says. New top-level comments wait behind a button, so that the page
// does not move under the reader; replies, edits, likes and moderators' decisions show where they happen.
// An event's comment may be newer than the event (on PostgreSQL the server loads it when it reads its log:
// an ADDED may come with a removed or deleted comment, an EDITED with a removed one): what it shows follows
// the comment's status, and the later event that changed it does the counting.
func (v *ThreadView) applyLive(ctx app.Context, e liveEvent) {
	t := v.thread
	if e.Kind == "RESYNC" {
		v.live.after = ""
		v.fresh = nil
		v.reload(ctx)
		return
	}
	v.live.after = e.Cursor
	var next *Comment
	if e.Comment != nil {
		c := (&gqlPage{Nodes: []gqlComment{*e.Comment}}).page().Items[0]
		next = &c
	}
	c := find(t.Comments.Items, e.CommentID)
	switch e.Kind {
	case "ADDED":
		switch {
		case next == nil:
		case c != nil: // the reader's own comment, or their pending one approved
			c.Pending = next.Pending
		case e.ParentID == nil:
			if findFresh(v.fresh, next.ID) < 0 {
				v.fresh = append([]Comment{*next}, v.fresh...)
				v.announce = plural(len(v.fresh), "new comment", "new comments") + " above the thread."
			}
		default:
			if parent := find(t.Comments.Items, *e.ParentID); parent != nil {
				if parent.Replies == nil {
					parent.Replies = &Page{}
				}
				parent.Replies.Items = append(parent.Replies.Items, *next)
				if !next.Pending {
					parent.Replies.Total++
					parent.ReplyCount++
				}
			}
		}
		if next != nil && !next.Pending && !next.Removed && !next.Deleted && c == nil {
			t.CommentCount++
		}
	case "EDITED":
		if c != nil && next != nil && !next.Removed && !next.Deleted { // else its REMOVED or DELETED follows
			c.BodyHTML, c.Edited = next.BodyHTML, true
		}
	case "LIKED":
		if c != nil && next != nil {
			c.LikeCount = next.LikeCount
		}
	case "REMOVED", "RESTORED", "HELD":
		if c == nil {
			break
		}
		if e.Kind == "RESTORED" {
			t.CommentCount++
		} else if !c.Removed && !c.Pending {
			t.CommentCount--
		}
		if next == nil { // held: readers do not see it until a moderator decides
			c.Gone = true
			break
		}
		c.BodyHTML, c.Removed, c.Pending, c.Rule = next.BodyHTML, next.Removed, next.Pending, next.Rule
		if v.own[c.ID] || v.mod.canModerate {
			v.refreshViewer(ctx) // the author's and the moderator's views say more than the event
		}
	case "DELETED":
		if c == nil {
			break
		}
		if !c.Deleted && !c.Removed && !c.Pending {
			t.CommentCount--
		}
		c.Deleted, c.BodyHTML, c.Author = true, "", ""
		c.Gone = next == nil
	}
}

func findFresh(list []Comment, id string) int {
	for i := range list {
		if list[i].ID == id {
			return i
		}
	}
	return -1
}

// showFresh puts the new top-level comments at the top of the thread.
func (v *ThreadView) showFresh(ctx app.Context, e app.Event) {
	t := v.thread
	shown := 0
	for i := len(v.fresh) - 1; i >= 0; i-- { // oldest first, each going on top
		if c := v.fresh[i]; find(t.Comments.Items, c.ID) == nil { // a reload may have brought it already
			t.Comments.Items = append([]Comment{c}, t.Comments.Items...)
			shown++
		}
	}
	t.Comments.Total += shown
	v.announce = plural(shown, "new comment", "new comments") + " shown."
	v.fresh = nil
}

// freshButton draws the button that shows new top-level comments.
func (v *ThreadView) freshButton() app.UI {
	if len(v.fresh) == 0 {
		return app.Text("")
	}
	label := "Show " + plural(len(v.fresh), "new comment", "new comments")
	return app.Button().Class("tl-more tl-fresh").ID("tl-fresh").OnClick(v.showFresh).Text(label)
}

// liveLabel says the state of the live connection for the page's data attribute: "off" before it starts.
func (v *ThreadView) liveLabel() string {
	if v.liveState == "" {
		return "off"
	}
	return v.liveState
}
