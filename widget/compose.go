package widget

import (
	"strings"
	"unicode/utf8"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// maxBody is the longest comment the API takes, in characters.
const maxBody = 10000

// OnMount runs in the browser once the widget has taken over: it finds the reader's token, asks the API for
// the reader's own state of the comments on the page, and goes to the comment a permalink names.
func (v *ThreadView) OnMount(ctx app.Context) {
	v.mounted = &ctx
	v.pageURL = framedBy(app.Window().URL().Query().Get("url"))
	if v.thread == nil {
		return
	}
	v.token = storedToken(v.thread.Site)
	v.refreshViewer(ctx)
	v.listenForSignIn(ctx)
	v.startLive(ctx)
	if id, ok := strings.CutPrefix(app.Window().Get("location").Get("hash").String(), "#comment-"); ok {
		v.seeking = id
		v.seek(ctx)
	}
}

// OnDismount closes the live connection.
func (v *ThreadView) OnDismount() { v.closeLive() }

// maxSeekPages bounds how many pages a permalink loads to find its comment.
const maxSeekPages = 10

// seek goes to the permalinked comment once it is on the page, loading further pages of comments until it is,
// within maxSeekPages.
func (v *ThreadView) seek(ctx app.Context) {
	id := v.seeking
	if find(v.thread.Comments.Items, id) != nil {
		v.seeking = ""
		ctx.Defer(func(ctx app.Context) { goToComment(id) })
		return
	}
	v.seekPages++
	if !v.thread.Comments.HasNext || v.seekPages > maxSeekPages {
		v.seeking = ""
		v.announce = "The linked comment is not in this thread any more."
		return
	}
	v.loadMore(ctx, app.Event{})
}

// goToComment scrolls to a comment and marks it, and asks the embedding page to bring it into view.
func goToComment(id string) {
	el := app.Window().GetElementByID("comment-" + id)
	if !el.Truthy() {
		return
	}
	el.Get("classList").Call("add", "tl-target")
	el.Call("scrollIntoView", map[string]any{"block": "center"})
	top := el.Call("getBoundingClientRect").Get("top").Float() + app.Window().Get("scrollY").Float()
	parent := app.Window().Get("parent")
	if parent.Truthy() {
		parent.Call("postMessage", map[string]any{"type": "threadline:scroll", "top": top}, "*")
	}
}

// refreshViewer asks the API which comments on the page the reader likes and may edit. The thread itself is
// read anonymously, from the server's shared cache; only this small overlay is the reader's own.
func (v *ThreadView) refreshViewer(ctx app.Context) {
	v.refreshModeration(ctx)
	if v.token == "" || v.thread == nil {
		return
	}
	ids := collectIDs(v.thread.Comments.Items, nil)
	token := v.token
	// nodes takes at most 100 IDs a request; a page with none still asks for the reader's name.
	var batches [][]string
	for start := 0; start < len(ids); start += 100 {
		batches = append(batches, ids[start:min(start+100, len(ids))])
	}
	if len(batches) == 0 {
		batches = [][]string{{}}
	}
	ctx.Async(func() {
		liked, own := map[string]bool{}, map[string]bool{}
		var name string
		for _, batch := range batches {
			var out struct {
				Viewer *struct {
					DisplayName string `json:"displayName"`
				} `json:"viewer"`
				Nodes []*struct {
					ID             string `json:"id"`
					ViewerHasLiked bool   `json:"viewerHasLiked"`
					ViewerCanEdit  bool   `json:"viewerCanEdit"`
				} `json:"nodes"`
			}
			err := call(token, viewerQuery, map[string]any{"ids": batch}, &out)
			if e, ok := err.(*gqlError); ok && e.code == "UNAUTHENTICATED" {
				ctx.Dispatch(func(ctx app.Context) {
					if v.token == token { // not a token the reader has replaced meanwhile
						v.signOut(ctx)
					}
				})
				return
			}
			if err != nil {
				return // the thread stays usable; likes show as not liked
			}
			if out.Viewer != nil {
				name = out.Viewer.DisplayName
			}
			for _, n := range out.Nodes {
				if n != nil {
					liked[n.ID], own[n.ID] = n.ViewerHasLiked, n.ViewerCanEdit
				}
			}
		}
		ctx.Dispatch(func(ctx app.Context) { v.liked, v.own, v.name = liked, own, name })
	})
}

func collectIDs(items []Comment, ids []string) []string {
	for i := range items {
		ids = append(ids, items[i].ID)
		if items[i].Replies != nil {
			ids = collectIDs(items[i].Replies.Items, ids)
		}
	}
	return ids
}

// find returns the comment with id among items and their replies.
func find(items []Comment, id string) *Comment {
	for i := range items {
		if items[i].ID == id {
			return &items[i]
		}
		if items[i].Replies != nil {
			if c := find(items[i].Replies.Items, id); c != nil {
				return c
			}
		}
	}
	return nil
}

// composer draws a form to write a comment, a reply (to the author named to) or an edit. Until the reader has
// a name on this site, it asks for one too. What they type stays when sending fails.
func (v *ThreadView) composer(key, title, to, action string) app.UI {
	label := app.Text(title)
	if to != "" {
		label = app.Span().Body(app.Text(title+" to "), isolated(to))
		title += " to " + to
	}
	id := "tl-compose-" + strings.ReplaceAll(key, ":", "-")
	draft := v.drafts[key]
	count := utf8.RuneCountInString(draft)
	busy := v.sending == key
	// The widget checks the form itself (novalidate) so that every refusal reads the same, next to the form.
	return app.Form().Class("tl-composer").ID(id).Aria("label", title).Attr("novalidate", true).
		OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			v.submit(ctx, key)
		}, app.EventScope(key)).
		Body(
			app.If(v.token == "", func() app.UI {
				return app.Div().Class("tl-field").Body(
					app.Label().For(id+"-name").Text("Your name"),
					app.Input().ID(id+"-name").Class("tl-name").Type("text").MaxLength(50).Required(true).Disabled(!v.client).
						Attr("autocomplete", "nickname").Value(v.nameText).
						OnInput(func(ctx app.Context, e app.Event) { v.nameText = ctx.JSSrc().Get("value").String() }),
				)
			}).Else(func() app.UI {
				if v.name == "" {
					return app.P().Class("tl-as").Text("Commenting under your name on this site")
				}
				return app.P().Class("tl-as").Body(app.Text("Commenting as "), isolated(v.name))
			}),
			app.Div().Class("tl-field").Body(
				app.Label().For(id+"-body").Body(label),
				app.Textarea().ID(id+"-body").Class("tl-text").Rows(3).Required(true).Disabled(!v.client).
					Aria("describedby", id+"-count").
					Text(draft).
					OnInput(func(ctx app.Context, e app.Event) {
						if v.drafts == nil {
							v.drafts = map[string]string{}
						}
						v.drafts[key] = ctx.JSSrc().Get("value").String()
					}, app.EventScope(key)),
			),
			app.Div().Class("tl-compose-foot").Body(
				app.Span().ID(id+"-count").Class(counterClass(count)).Text(itoa(count)+" / 10,000 · Markdown"),
				app.If(key != "top", func() app.UI {
					return app.Button().Type("button").Class("tl-act").
						OnClick(func(ctx app.Context, e app.Event) { v.compose = "" }).Text("Cancel")
				}),
				app.Button().Type("submit").Class("tl-send").Disabled(busy || !v.client).Text(action),
			),
			app.If(v.failed[key] != "", func() app.UI {
				return app.P().Class("tl-problem").Attr("role", "alert").Text(v.failed[key])
			}),
		)
}

func (v *ThreadView) openComposer(key string) {
	if v.compose == key {
		v.compose = ""
		return
	}
	v.compose = key
}

func (v *ThreadView) setFailed(key, msg string) {
	if v.failed == nil {
		v.failed = map[string]string{}
	}
	v.failed[key] = msg
}

// submit sends a composer's text: a new comment, a reply, or an edit.
func (v *ThreadView) submit(ctx app.Context, key string) {
	body := strings.TrimSpace(v.drafts[key])
	switch {
	case v.sending != "":
		return
	case body == "":
		v.setFailed(key, "Write something first.")
		return
	case utf8.RuneCountInString(body) > maxBody:
		v.setFailed(key, "This is longer than 10,000 characters. Please shorten it.")
		return
	case v.token == "" && strings.TrimSpace(v.nameText) == "":
		v.setFailed(key, "Choose the name to show with your comments.")
		return
	}
	v.sending = key
	v.setFailed(key, "")
	t, token, name := v.thread, v.token, strings.TrimSpace(v.nameText)
	kind, target, _ := strings.Cut(key, ":")
	ctx.Async(func() {
		var err error
		var reader struct {
			CreateReader struct {
				Token  string `json:"token"`
				Reader struct {
					DisplayName string `json:"displayName"`
				} `json:"reader"`
			} `json:"createReader"`
		}
		if token == "" {
			if err = call("", createReaderMutation, map[string]any{"site": t.Site, "name": name}, &reader); err == nil {
				token = reader.CreateReader.Token
				storeToken(t.Site, token)
			}
		}
		var out struct {
			AddComment, EditComment struct {
				Comment *gqlComment `json:"comment"`
			}
		}
		if err == nil {
			switch kind {
			case "edit":
				err = call(token, editCommentMutation, map[string]any{"id": target, "body": body}, &out)
			default:
				vars := map[string]any{"article": t.ArticleID, "body": body}
				if kind == "reply" {
					vars["parent"] = target
				}
				err = call(token, addCommentMutation, vars, &out)
			}
		}
		ctx.Dispatch(func(ctx app.Context) {
			v.sending = ""
			if token != "" && v.token == "" {
				v.token, v.name = token, reader.CreateReader.Reader.DisplayName
				v.restartLive(ctx)
			}
			if err != nil {
				v.setFailed(key, err.Error())
				return
			}
			delete(v.drafts, key)
			if kind == "edit" {
				v.applyEdit(target, out.EditComment.Comment)
			} else {
				v.insert(target, out.AddComment.Comment)
			}
			v.compose = ""
		})
	})
}

// insert puts the reader's new comment where it belongs: first among the top-level comments, or last among its
// parent's replies.
func (v *ThreadView) insert(parentID string, gc *gqlComment) {
	if gc == nil {
		return
	}
	c := (&gqlPage{Nodes: []gqlComment{*gc}}).page().Items[0]
	if v.own == nil {
		v.own = map[string]bool{}
	}
	v.own[c.ID] = true
	t := v.thread
	if i := findFresh(v.fresh, c.ID); i >= 0 { // its live event came first
		v.fresh = append(v.fresh[:i], v.fresh[i+1:]...)
		t.CommentCount--
	}
	if find(t.Comments.Items, c.ID) != nil { // a reply whose live event came first
		v.announce = "Your reply was posted."
		return
	}
	t.CommentCount++
	if c.Pending {
		t.CommentCount--
		v.announce = "Your comment waits for a moderator: only you see it until it is approved."
	}
	if parentID == "" {
		t.Comments.Items = append([]Comment{c}, t.Comments.Items...)
		if !c.Pending {
			t.Comments.Total++
			v.announce = "Your comment was posted."
		}
		return
	}
	parent := find(t.Comments.Items, parentID)
	if parent == nil {
		return
	}
	if parent.Replies == nil {
		parent.Replies = &Page{}
	}
	parent.Replies.Items = append(parent.Replies.Items, c)
	delete(v.collapsed, parentID)
	if !c.Pending {
		parent.Replies.Total++
		parent.ReplyCount++
		v.announce = "Your reply was posted."
	}
}

func (v *ThreadView) applyEdit(id string, gc *gqlComment) {
	c := find(v.thread.Comments.Items, id)
	if c == nil || gc == nil {
		return
	}
	edited := (&gqlPage{Nodes: []gqlComment{*gc}}).page().Items[0]
	c.BodyHTML, c.Edited = edited.BodyHTML, true
	v.announce = "Your comment was saved."
}

// startEdit opens the edit composer with the comment's Markdown, which the page does not carry.
func (v *ThreadView) startEdit(ctx app.Context, id string) {
	token := v.token
	ctx.Async(func() {
		var out struct {
			Node *struct {
				Body string `json:"body"`
			} `json:"node"`
		}
		err := call(token, bodyQuery, map[string]any{"id": id}, &out)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil || out.Node == nil {
				v.setFailed(id, "The comment could not be opened for editing.")
				return
			}
			if v.drafts == nil {
				v.drafts = map[string]string{}
			}
			v.drafts["edit:"+id] = out.Node.Body
			v.compose = "edit:" + id
		})
	})
}

// remove deletes the reader's comment after they confirm.
func (v *ThreadView) remove(ctx app.Context, id string) {
	if !app.Window().Call("confirm", "Delete this comment? This cannot be undone.").Bool() {
		return
	}
	token := v.token
	ctx.Async(func() {
		var out struct {
			DeleteComment struct {
				Comment *gqlComment `json:"comment"`
			} `json:"deleteComment"`
		}
		err := call(token, deleteCommentMutation, map[string]any{"id": id}, &out)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				v.setFailed(id, err.Error())
				return
			}
			if c := find(v.thread.Comments.Items, id); c != nil && !c.Deleted { // its live event may have come first
				v.thread.CommentCount--
				// A comment with replies stays as a placeholder; one without disappears from the page.
				c.Deleted, c.BodyHTML, c.Author = true, "", ""
				if out.DeleteComment.Comment == nil && (c.Replies == nil || len(c.Replies.Items) == 0) {
					c.Gone = true
				}
			}
			v.announce = "Your comment was deleted."
		})
	})
}

// likeButton draws the like count, a toggle once the widget runs.
func (v *ThreadView) likeButton(c *Comment) app.UI {
	if c.Deleted {
		return app.Span().Class("tl-likes").Aria("label", likesLabel(c.LikeCount)).Text("♥ " + itoa(c.LikeCount))
	}
	id, liked := c.ID, v.liked[c.ID]
	return app.Button().Class("tl-act tl-like").Aria("pressed", liked).Aria("label", "Like, "+likesLabel(c.LikeCount)).
		Disabled(!v.client).
		OnClick(func(ctx app.Context, e app.Event) {
			if c := find(v.thread.Comments.Items, id); c != nil {
				v.toggleLike(ctx, c)
			}
		}, app.EventScope(id)).
		Text("♥ " + itoa(c.LikeCount))
}

// toggleLike likes or unlikes at once on the page, and rolls back if the API refuses.
func (v *ThreadView) toggleLike(ctx app.Context, c *Comment) {
	if v.token == "" {
		v.openComposer("reply:" + c.ID)
		v.setFailed("reply:"+c.ID, "Choose a name to like comments: it is all Threadline keeps about you.")
		return
	}
	if v.liked == nil {
		v.liked = map[string]bool{}
	}
	id, token, was := c.ID, v.token, v.liked[c.ID]
	v.liked[id] = !was
	if was {
		c.LikeCount--
	} else {
		c.LikeCount++
	}
	v.setFailed(id, "")
	ctx.Async(func() {
		mutation := likeMutation
		if was {
			mutation = unlikeMutation
		}
		var out map[string]struct {
			Comment struct {
				LikeCount int `json:"likeCount"`
			} `json:"comment"`
		}
		err := call(token, mutation, map[string]any{"id": id}, &out)
		ctx.Dispatch(func(ctx app.Context) {
			c := find(v.thread.Comments.Items, id)
			if c == nil {
				return
			}
			if err != nil {
				v.liked[id] = was
				if was {
					c.LikeCount++
				} else {
					c.LikeCount--
				}
				v.setFailed(id, "Your like could not be saved: "+err.Error())
				return
			}
			for _, r := range out {
				c.LikeCount = r.Comment.LikeCount
			}
		})
	})
}

func counterClass(count int) string {
	if count > maxBody {
		return "tl-counter tl-over"
	}
	return "tl-counter"
}
