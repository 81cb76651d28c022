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
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/threadline/threadline/linkurl"
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
	thread    *Thread
	err       string
	client    bool            // rendered by the WebAssembly, not prerendered
	order     string          // TOP, NEWEST or OLDEST
	busy      string          // what is loading: "order", "more", or a comment ID whose replies load
	problem   string          // the last failure, shown where it happened
	collapsed map[string]bool // comment IDs whose replies are hidden

	pageURL   string            // the url parameter, when it may be the base of permalinks (see permalinkBase)
	token     string            // the reader's token on this site; "" until they choose a name
	name      string            // the reader's display name
	liked     map[string]bool   // comments the reader likes
	own       map[string]bool   // comments the reader may edit or delete
	compose   string            // the open composer besides the top one: "reply:ID" or "edit:ID"
	drafts    map[string]string // what the reader typed, per composer; kept when sending fails
	nameText  string            // the display name being typed
	sending   string            // the composer whose text is being sent
	failed    map[string]string // per composer or comment: why the last attempt failed
	announce  string            // what the live region says
	seeking   string            // a permalinked comment not on the page yet
	seekPages int               // pages loaded to find it
	mod       modState          // what the reader's credentials add: their moderated comments, a moderator's tools
	mounted   *app.Context      // the component's own context, for work that outlives the element that started it
	live      *liveConn         // the subscription to the thread's changes
	liveState string            // "connecting", "live", "offline" or "paused"
	fresh     []Comment         // new top-level comments, newest first, waiting for the reader to show them
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
	q := ctx.Page().URL().Query()
	t, found := takePrerender(q.Get(prerenderParam))
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
	root := app.Main().ID("threadline").Class("tl").DataSet("source", source).DataSet("live", v.liveLabel())
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
		app.Div().Class("tl-head").Body(
			app.H1().Class("tl-count").Text(countLabel(t.CommentCount)),
			v.sortButtons(),
		),
		app.Div().Class("tl-live").Attr("role", "status").Aria("live", "polite").Text(v.liveMessage()),
		app.If(v.mod.suspension != "", func() app.UI {
			return app.P().Class("tl-problem tl-suspended").Attr("role", "note").Text(v.mod.suspension)
		}),
		v.queuePanel(),
		v.minePanel(),
		// Drawn on the server too, disabled until the WebAssembly runs, so that the takeover moves nothing.
		app.If(t.Locked, func() app.UI {
			return app.P().Class("tl-status tl-locked").Text("This thread is locked: it takes no new comments.")
		}).Else(func() app.UI {
			return v.composer("top", "Join the discussion", "", "Post comment")
		}),
		v.freshButton(),
		app.If(v.problem != "" && v.busy == "", func() app.UI {
			return app.P().Class("tl-problem").Attr("role", "alert").Text(v.problem)
		}),
		app.Ol().Class("tl-list").Aria("label", "Comments").Aria("busy", v.busy == "order").Body(
			app.Range(t.Comments.Items).Slice(func(i int) app.UI {
				return v.commentView(&t.Comments.Items[i], "", now)
			}),
		),
		app.If(t.Comments.HasNext, func() app.UI {
			label := "Show " + moreLabel(t.Comments.Total-len(t.Comments.Items))
			return app.Button().Class("tl-more").ID("tl-more").Disabled(!v.client || v.busy != "").
				OnClick(v.loadMore).Text(label)
		}),
		v.accountBar(),
		app.If(!v.client, func() app.UI {
			seed, _ := json.Marshal(t)
			return app.Div().ID(seedID).Hidden(true).Text(string(seed))
		}),
	)
}

// orders are the sort orders offered, in the order of their buttons.
var orders = []struct{ value, label string }{{"TOP", "Top"}, {"NEWEST", "Newest"}, {"OLDEST", "Oldest"}}

func (v *ThreadView) currentOrder() string {
	if v.order == "" {
		return "TOP"
	}
	return v.order
}

func (v *ThreadView) sortButtons() app.UI {
	return app.Div().Class("tl-sort").Attr("role", "group").Aria("label", "Sort comments").Body(
		app.Range(orders).Slice(func(i int) app.UI {
			o := orders[i]
			return app.Button().
				Class("tl-sort-btn").
				DataSet("order", o.value).
				Aria("pressed", v.currentOrder() == o.value).
				Disabled(!v.client || v.busy != "").
				OnClick(func(ctx app.Context, e app.Event) { v.sortBy(ctx, o.value) }).
				Text(o.label)
		}),
	)
}

func (v *ThreadView) liveMessage() string {
	switch v.busy {
	case "":
		return v.announce
	case "order", "more":
		return "Loading comments…"
	}
	return "Loading replies…"
}

// sortBy reloads the thread's first page in another order.
func (v *ThreadView) sortBy(ctx app.Context, order string) {
	if order == v.currentOrder() || v.busy != "" {
		return
	}
	v.busy, v.problem = "order", ""
	t := v.thread
	ctx.Async(func() {
		next, err := fetchPage(t, order, "")
		ctx.Dispatch(func(ctx app.Context) {
			v.busy = ""
			if err != nil {
				v.problem = "The comments could not be sorted: " + err.Error()
				return
			}
			v.thread, v.order = next, order
			v.announce = "Comments sorted: " + strings.ToLower(order) + " first."
			v.refreshViewer(ctx)
		})
	})
}

// fetchPage reads a page of t's top-level comments in order, after a cursor (none when empty), anonymously:
// the thread is the same for every reader, and served from the server's cache.
func fetchPage(t *Thread, order, after string) (*Thread, error) {
	vars := map[string]any{"site": t.Site, "article": t.Article, "order": order}
	if after != "" {
		vars["after"] = after
	}
	resp, err := post("", PageQuery, vars)
	if err != nil {
		return nil, err
	}
	return DecodeThread(resp, t.Site, t.Article)
}

// loadMore appends the next page of top-level comments.
func (v *ThreadView) loadMore(ctx app.Context, e app.Event) {
	if v.busy != "" {
		return
	}
	v.busy, v.problem = "more", ""
	t := v.thread
	order, after := v.currentOrder(), t.Comments.EndCursor
	ctx.Async(func() {
		next, err := fetchPage(t, order, after)
		ctx.Dispatch(func(ctx app.Context) {
			v.busy = ""
			if err != nil {
				v.problem = "More comments could not be loaded: " + err.Error()
				return
			}
			t.CommentCount = next.CommentCount
			t.Comments.Items = append(t.Comments.Items, next.Comments.Items...)
			t.Comments.Total, t.Comments.HasNext, t.Comments.EndCursor = next.Comments.Total, next.Comments.HasNext, next.Comments.EndCursor
			v.announce = plural(len(next.Comments.Items), "more comment", "more comments") + " shown."
			v.refreshViewer(ctx)
			if v.seeking != "" {
				v.seek(ctx)
			}
		})
	})
}

// loadReplies appends the next page of a comment's replies.
func (v *ThreadView) loadReplies(ctx app.Context, id string) {
	c := find(v.thread.Comments.Items, id)
	if v.busy != "" || c == nil || c.Replies == nil {
		return
	}
	v.busy, v.problem = id, ""
	after := c.Replies.EndCursor
	ctx.Async(func() {
		resp, err := post("", RepliesQuery, map[string]any{"id": id, "after": after})
		var next *Page
		if err == nil {
			next, err = DecodeReplies(resp)
		}
		ctx.Dispatch(func(ctx app.Context) {
			v.busy = ""
			if err != nil {
				v.problem = "More replies could not be loaded: " + err.Error()
				return
			}
			c := find(v.thread.Comments.Items, id)
			if c == nil || c.Replies == nil {
				return
			}
			c.Replies.Items = append(c.Replies.Items, next.Items...)
			c.Replies.Total, c.Replies.HasNext, c.Replies.EndCursor = next.Total, next.HasNext, next.EndCursor
			v.announce = plural(len(next.Items), "more reply", "more replies") + " shown."
			v.refreshViewer(ctx)
		})
	})
}

// toggle collapses or expands the replies under a comment.
func (v *ThreadView) toggle(id string) {
	if v.collapsed == nil {
		v.collapsed = map[string]bool{}
	}
	v.collapsed[id] = !v.collapsed[id]
}

// bodyView draws a comment's body, or what stands in its place: a deleted comment's note, a removed one's rule,
// and for its author, their own held or removed comment with what a moderator decided.
func (v *ThreadView) bodyView(c *Comment) app.UI {
	own := v.mod.mine[c.ID]
	switch {
	case c.Deleted:
		return app.P().Class("tl-body tl-deleted").Text("This comment was deleted by its author.")
	case c.Removed && own == nil:
		return app.P().Class("tl-body tl-deleted tl-removed").Text("Removed by a moderator: " + c.Rule + ".")
	case c.Removed:
		return app.Div().Body(app.Raw(bodyOpen+own.BodyHTML+`</div>`), v.moderationNote(c, own, false))
	case c.Pending:
		return app.Div().Body(app.Raw(bodyOpen+c.BodyHTML+`</div>`), v.moderationNote(c, own, false))
	}
	return app.Raw(bodyOpen + c.BodyHTML + `</div>`)
}

// Text that readers write is isolated from the text around it (Unicode's bidirectional algorithm, HTML's
// dir="auto" and <bdi>): a name or a comment in a right-to-left script, or one that ends with a directional
// control left open (U+202E and the like, which names are also cleaned of on input), takes its direction from
// its own first strong character and cannot reorder the page's text around it, as "Admin\u202E (moderator)"
// would otherwise do to what follows it.

// bodyOpen starts the element that holds a comment's rendered body.
const bodyOpen = `<div class="tl-body" dir="auto">`

// authorView draws a comment's author.
func authorView(name string) app.UI { return app.Span().Class("tl-author").Dir("auto").Text(name) }

// isolated draws a reader's text inside a sentence of the widget's.
func isolated(text string) app.UI { return app.Bdi().Text(text) }

// permalinkBase is the address of the page a comment's Link opens, "" for no Link. The Link opens in the top
// window (target _top), so whoever chooses its address could send readers of a trusted site anywhere; the url
// parameter of the thread page is chosen by whoever wrote the link to it, which may be anyone. So:
//   - the article's stored URL, when it has one: Threadline stored it at the article's first embed, from a
//     page on one of the site's origins;
//   - otherwise, in the browser, the url parameter if the thread page is framed by a page on that URL's origin
//     (see framedBy): the embedding page that passed it, one that the site's frame-ancestors policy let in;
//   - otherwise none: the prerender, which knows nothing of the embedding page, draws no Link.
func (v *ThreadView) permalinkBase() string {
	if v.thread != nil && v.thread.URL != "" {
		return v.thread.URL
	}
	return v.pageURL
}

// framedBy returns pageURL if the thread page is in a frame and the page that framed it (document.referrer,
// which a frame's first navigation gets from its parent) has pageURL's origin, and "" otherwise. A thread page
// opened on its own, or linked from anywhere, has no embedding page whose address its permalinks could use.
func framedBy(pageURL string) string {
	w := app.Window()
	if parent := w.Get("parent"); !parent.Truthy() || parent.Equal(w.Get("self")) {
		return ""
	}
	if o := origin(pageURL); o == "" || o != origin(w.Get("document").Get("referrer").String()) {
		return ""
	}
	return pageURL
}

// origin is the scheme and host of an http(s) URL, in lower case, or "" for any other string.
func origin(raw string) string {
	if !linkurl.Allowed(raw) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// permalink is the address of comment id on the page at base (see permalinkBase), or "" when that is not an
// address Threadline links to: only http(s) URLs become links.
func permalink(base, id string) string {
	if u := base + "#comment-" + id; base != "" && linkurl.Allowed(u) {
		return u
	}
	return ""
}

// flatDepth is the depth from which replies stop moving right (see thread.css) and say whom they answer.
const flatDepth = 4

// commentView draws a comment and its replies; parent is the name of the author it answers.
func (v *ThreadView) commentView(c *Comment, parent string, now time.Time) app.UI {
	if c.Gone {
		return app.Text("")
	}
	author := c.Author
	if author == "" {
		author = "Anonymous"
	}
	if c.Deleted {
		author = "Deleted"
	}
	// Event handlers take the comment's ID, scoped to it, and find the comment when they run. go-app keeps a
	// node's handler when the new one has the same code, so without the scope a button would keep acting on
	// whichever comment was drawn at its place first (before a sort, say).
	id := c.ID
	hasReplies := c.Replies != nil && len(c.Replies.Items) > 0
	collapsed := v.collapsed[c.ID]
	repliesID := "replies-" + c.ID
	return app.Li().ID("comment-"+c.ID).Class("tl-comment").DataSet("depth", c.Depth).Body(
		app.Article().Class("tl-card").Body(
			app.Header().Class("tl-meta").Body(
				authorView(author),
				app.Text(" "),
				app.Time().
					Class("tl-time").
					DateTime(c.CreatedAt.UTC().Format(time.RFC3339)).
					Title(c.CreatedAt.UTC().Format("2 January 2006, 15:04 UTC")).
					Text(relativeTime(c.CreatedAt, now)),
				app.If(c.Edited, func() app.UI { return app.Span().Class("tl-edited").Text(" · edited") }),
				app.If(c.Depth >= flatDepth, func() app.UI {
					return app.Span().Class("tl-replying").Body(app.Text(" · replying to "), isolated(parent))
				}),
			),
			v.bodyView(c),
			app.If(v.compose == "edit:"+c.ID, func() app.UI {
				return v.composer("edit:"+c.ID, "Edit your comment", "", "Save")
			}),
			app.Footer().Class("tl-actions").Body(
				app.If(!c.Removed && !c.Pending, func() app.UI { return v.likeButton(c) }),
				app.If(!c.Deleted && !c.Removed && !c.Pending && !v.thread.Locked, func() app.UI {
					return app.Button().Class("tl-act").Aria("expanded", v.compose == "reply:"+c.ID).Disabled(!v.client).
						OnClick(func(ctx app.Context, e app.Event) { v.openComposer("reply:" + id) }, app.EventScope(id)).
						Text("Reply")
				}),
				app.If(v.client && v.own[c.ID] && !c.Deleted, func() app.UI {
					return app.Button().Class("tl-act").
						OnClick(func(ctx app.Context, e app.Event) { v.startEdit(ctx, id) }, app.EventScope(id)).
						Text("Edit")
				}),
				app.If(v.client && v.own[c.ID] && !c.Deleted, func() app.UI {
					return app.Button().Class("tl-act").
						OnClick(func(ctx app.Context, e app.Event) { v.remove(ctx, id) }, app.EventScope(id)).
						Text("Delete")
				}),
				app.If(v.client && v.token != "" && !v.own[c.ID] && !c.Deleted && !c.Removed && !c.Pending && len(v.mod.rules) > 0, func() app.UI {
					return app.Button().Class("tl-act").Aria("expanded", v.compose == "report:"+c.ID).
						OnClick(func(ctx app.Context, e app.Event) { v.openComposer("report:" + id) }, app.EventScope(id)).
						Text("Report")
				}),
				v.moderatorActions(c),
				app.If(!c.Pending && permalink(v.permalinkBase(), c.ID) != "", func() app.UI {
					// The link opens the publisher's page at the comment. go-app would take the click for its own
					// router and open another window; stopping the event here leaves it to the browser.
					return app.A().Class("tl-act tl-link").Href(permalink(v.permalinkBase(), c.ID)).Target("_top").
						Aria("label", "Link to this comment").
						OnClick(func(ctx app.Context, e app.Event) { e.Call("stopPropagation") }).
						Text("Link")
				}),
				app.If(hasReplies, func() app.UI {
					label := "Hide replies"
					if collapsed {
						label = "Show " + plural(c.ReplyCount, "reply", "replies")
					}
					return app.Button().Class("tl-toggle").
						Aria("expanded", !collapsed).Aria("controls", repliesID).
						Disabled(!v.client).
						OnClick(func(ctx app.Context, e app.Event) { v.toggle(id) }, app.EventScope(id)).
						Text(label)
				}),
			),
		),
		app.If(v.failed[c.ID] != "", func() app.UI {
			return app.P().Class("tl-problem").Attr("role", "alert").Text(v.failed[c.ID])
		}),
		v.commentForms(c),
		app.If(v.compose == "reply:"+c.ID, func() app.UI {
			return v.composer("reply:"+c.ID, "Reply", author, "Post reply")
		}),
		app.If(hasReplies && !collapsed, func() app.UI {
			return app.Ol().ID(repliesID).Class("tl-replies").Aria("label", "Replies").Body(
				app.Range(c.Replies.Items).Slice(func(i int) app.UI {
					return v.commentView(&c.Replies.Items[i], author, now)
				}),
			)
		}),
		app.If(!collapsed && c.Replies != nil && c.Replies.HasNext, func() app.UI {
			return app.Button().Class("tl-more tl-more-replies").Disabled(!v.client || v.busy != "").
				OnClick(func(ctx app.Context, e app.Event) { v.loadReplies(ctx, id) }, app.EventScope(id)).
				Text("Show " + moreRepliesLabel(c.Replies.Total-len(c.Replies.Items)))
		}),
	)
}
