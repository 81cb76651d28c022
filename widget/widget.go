// Package widget is Threadline's embeddable thread viewer: go-app components that the server prerenders into
// the first HTML response of /embed/thread (readable with no JavaScript), and that the WebAssembly build then
// takes over in the browser. It reads threads only through the public GraphQL API.
//
// go-app owns the whole document, so the widget lives in an iframe of its own (see embed.js). The prerendered
// DOM is replaced, not hydrated, when the WebAssembly starts; the server therefore also writes the thread as
// JSON into the page, and the client starts from it, so the takeover shows the same thread with no fetch and
// no flash.
package widget

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ThreadPath is the route of the thread page, below the prefix it is served under (/embed).
const ThreadPath = "/thread"

var registerOnce sync.Once

// Register registers the widget's routes with go-app, whose route table is global to the process. The server
// and the WebAssembly build both call it.
func Register() {
	registerOnce.Do(func() {
		app.Route(ThreadPath, func() app.Composer { return &ThreadView{} })
	})
}

// seedID is the element that carries the prerendered thread as JSON to the client.
const seedID = "tl-seed"

// ThreadView is the thread page's root component.
type ThreadView struct {
	app.Compo
	thread *Thread
	err    string
	client bool // rendered by the WebAssembly, not prerendered
}

// OnInit runs on both sides; in the browser it reads the thread the server wrote into the page, before go-app
// replaces the prerendered DOM.
func (v *ThreadView) OnInit() {
	if !app.IsClient {
		return
	}
	v.client = true
	seed := app.Window().GetElementByID(seedID)
	if !seed.Truthy() {
		return
	}
	var t Thread
	if err := json.Unmarshal([]byte(seed.Get("textContent").String()), &t); err == nil {
		v.thread = &t
	}
}

// OnPreRender takes the thread the server loaded for this request (see WithPrerender).
func (v *ThreadView) OnPreRender(ctx app.Context) {
	t, found := takePrerender(ctx.Page().URL().Query().Get(prerenderParam))
	switch {
	case !found:
		v.err = "This page needs a site and an article."
	case t == nil:
		v.err = "The comments could not be loaded."
	default:
		v.thread = t
		if t.Title != "" {
			ctx.Page().SetTitle("Comments on " + t.Title)
		}
	}
}

// Render draws the thread.
func (v *ThreadView) Render() app.UI {
	source := "prerender"
	if v.client {
		source = "client"
	}
	root := app.Main().ID("threadline").Class("tl").DataSet("source", source)
	if v.thread == nil {
		msg := v.err
		if msg == "" {
			msg = "Loading comments…"
		}
		return root.Body(app.P().Class("tl-status").Attr("role", "status").Text(msg))
	}
	t := v.thread
	now := time.Now()
	return root.Body(
		app.H2().Class("tl-count").Text(countLabel(t.CommentCount)),
		app.Ol().Class("tl-list").Aria("label", "Comments").Body(
			app.Range(t.Comments.Items).Slice(func(i int) app.UI {
				return commentView(&t.Comments.Items[i], now)
			}),
		),
		app.If(t.Comments.HasNext, func() app.UI {
			return app.P().Class("tl-more").Text(moreLabel(t.Comments.Total - len(t.Comments.Items)))
		}),
		app.If(!v.client, func() app.UI {
			seed, _ := json.Marshal(t)
			return app.Div().ID(seedID).Hidden(true).Text(string(seed))
		}),
	)
}

// commentView draws a comment and its replies.
func commentView(c *Comment, now time.Time) app.UI {
	author := c.Author
	if author == "" {
		author = "Anonymous"
	}
	if c.Deleted {
		author = "Deleted"
	}
	return app.Li().ID("comment-"+c.ID).Class("tl-comment").DataSet("depth", c.Depth).Body(
		app.Article().Class("tl-card").Body(
			app.Header().Class("tl-meta").Body(
				app.Span().Class("tl-author").Text(author),
				app.Text(" "),
				app.Time().
					Class("tl-time").
					DateTime(c.CreatedAt.UTC().Format(time.RFC3339)).
					Title(c.CreatedAt.UTC().Format("2 January 2006, 15:04 UTC")).
					Text(relativeTime(c.CreatedAt, now)),
				app.If(c.Edited, func() app.UI { return app.Span().Class("tl-edited").Text(" · edited") }),
			),
			app.If(c.Deleted, func() app.UI {
				return app.P().Class("tl-body tl-deleted").Text("This comment was deleted by its author.")
			}).Else(func() app.UI {
				return app.Raw(`<div class="tl-body">` + c.BodyHTML + `</div>`)
			}),
			app.Footer().Class("tl-actions").Body(
				app.Span().Class("tl-likes").Aria("label", likesLabel(c.LikeCount)).Text("♥ "+itoa(c.LikeCount)),
			),
		),
		app.If(c.Replies != nil && len(c.Replies.Items) > 0, func() app.UI {
			return app.Ol().Class("tl-replies").Aria("label", "Replies").Body(
				app.Range(c.Replies.Items).Slice(func(i int) app.UI {
					return commentView(&c.Replies.Items[i], now)
				}),
			)
		}),
		app.If(c.Replies != nil && c.Replies.HasNext, func() app.UI {
			return app.P().Class("tl-more").Text(moreRepliesLabel(c.ReplyCount - len(c.Replies.Items)))
		}),
	)
}
