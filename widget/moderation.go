package widget

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// modState is what the reader's credentials add to the thread: their own comments a moderator holds or
// removed, with the decision and their appeal; and, for the site's moderators, the queue and the tools.
type modState struct {
	canModerate bool
	rules       []string
	suspension  string                    // why and until when the reader may not write; "" when they may
	mine        map[string]*ownModeration // the reader's own held or removed comments, by ID
	mineOrder   []string                  // their IDs, newest first
	queue       []queueItem
	queueTotal  int
	choice      map[string]string // per form: the rule chosen, or the days of a suspension
}

// ownModeration is how a moderator dealt with one of the reader's comments, as its author sees it.
type ownModeration struct {
	Status    string
	Rule      string
	Note      string
	BodyHTML  string
	ParentID  string
	CreatedAt time.Time
	Depth     int
	CanAppeal bool
	Appeal    *appealView
}

type appealView struct {
	Text   string `json:"text"`
	Status string `json:"status"`
	Answer string `json:"answer"`
}

// queueItem is a comment waiting for a moderator.
type queueItem struct {
	ID, AuthorID, Author, BodyHTML, Status, Rule string
	Reports                                      string // "Spam ×2, Harassment"
	ReportCount                                  int
	Appeal                                       *appealView
}

const ownFragment = `fragment own on Comment {
  id status rule bodyHTML createdAt depth parent { id } moderation { note canAppeal appeal { text status answer } } }`

// The moderation queries and mutations the widget sends.
const (
	statusQuery = `query($site: String!, $article: String!) {
  viewer { displayName suspension { until reason } }
  site(slug: $site) { viewerCanModerate rules }
  article(site: $site, key: $article) { viewerModeratedComments { ...own } } }
` + ownFragment
	queueQuery = `query($site: String!, $article: ID!) {
  site(slug: $site) { moderationQueue(articleId: $article, first: 50) { totalCount nodes {
    id status rule bodyHTML author { id displayName } moderation { reportCount reports { rule count } appeal { text status answer } } } } } }`
	signInMutation = `mutation($site: String!, $token: String!) {
  signIn(input: {site: $site, token: $token}) { token moderator reader { displayName } } }`
	reportCommentMutation = `mutation($id: ID!, $rule: String!) { reportComment(input: {commentId: $id, rule: $rule}) { commentId } }`
	appealMutation        = `mutation($id: ID!, $text: String!) { appealModeration(input: {commentId: $id, text: $text}) { comment { id } } }`
	approveMutation       = `mutation($id: ID!) { approveComment(input: {commentId: $id}) { comment { id } } }`
	removeMutation        = `mutation($id: ID!, $rule: String!, $note: String) { removeComment(input: {commentId: $id, rule: $rule, note: $note}) { comment { id } } }`
	restoreMutation       = `mutation($id: ID!, $reason: String!) { restoreComment(input: {commentId: $id, reason: $reason}) { comment { id } } }`
	answerMutation        = `mutation($id: ID!, $decision: AppealDecision!, $reason: String!) {
  answerAppeal(input: {commentId: $id, decision: $decision, reason: $reason}) { comment { id } } }`
	suspendMutation = `mutation($id: ID!, $days: Int!, $reason: String!) { suspendReader(input: {readerId: $id, days: $days, reason: $reason}) { reader { id } } }`
	lockMutation    = `mutation($id: ID!, $reason: String!) { lockArticle(input: {articleId: $id, reason: $reason}) { article { locked } } }`
	unlockMutation  = `mutation($id: ID!, $reason: String!) { unlockArticle(input: {articleId: $id, reason: $reason}) { article { locked } } }`
	exportQuery     = `{ exportMyData { exportedAt reader { id displayName } comments { id status rule body bodyHTML createdAt editedAt article { key title url } parent { id } }
  likedCommentIds reports { commentId rule createdAt } appeals { commentId text status answer createdAt answeredAt } } }`
	deleteAccountMutation = `mutation { deleteMyAccount(input: {confirm: true}) { comments } }`
)

// refreshModeration reads the reader's standing on the site and their own moderated comments and, for a
// moderator, the article's queue.
func (v *ThreadView) refreshModeration(ctx app.Context) {
	if v.token == "" || v.thread == nil {
		v.mod = modState{}
		return
	}
	token, t := v.token, v.thread
	ctx.Async(func() {
		var status struct {
			Viewer *struct {
				DisplayName string `json:"displayName"`
				Suspension  *struct {
					Until  time.Time `json:"until"`
					Reason string    `json:"reason"`
				} `json:"suspension"`
			} `json:"viewer"`
			Site *struct {
				ViewerCanModerate bool     `json:"viewerCanModerate"`
				Rules             []string `json:"rules"`
			} `json:"site"`
			Article *struct {
				ViewerModeratedComments []gqlOwned `json:"viewerModeratedComments"`
			} `json:"article"`
		}
		if err := call(token, statusQuery, map[string]any{"site": t.Site, "article": t.Article}, &status); err != nil || status.Site == nil || status.Article == nil {
			return // the thread stays usable without the reader's own view
		}
		next := modState{canModerate: status.Site.ViewerCanModerate, rules: status.Site.Rules,
			mine: map[string]*ownModeration{}, choice: v.mod.choice}
		if s := status.Viewer; s != nil && s.Suspension != nil {
			next.suspension = "A moderator suspended you until " + s.Suspension.Until.UTC().Format("2 January 2006, 15:04 UTC") +
				": " + s.Suspension.Reason + " You can still read, delete your comments and appeal."
		}
		for _, o := range status.Article.ViewerModeratedComments {
			next.mine[o.ID] = o.own()
			next.mineOrder = append(next.mineOrder, o.ID)
		}
		if next.canModerate {
			next.queue, next.queueTotal = fetchQueue(token, t)
		}
		ctx.Dispatch(func(ctx app.Context) { v.mod = next })
	})
}

// gqlOwned is one of the reader's moderated comments as statusQuery returns it.
type gqlOwned struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Rule      *string   `json:"rule"`
	BodyHTML  string    `json:"bodyHTML"`
	CreatedAt time.Time `json:"createdAt"`
	Depth     int       `json:"depth"`
	Parent    *struct {
		ID string `json:"id"`
	} `json:"parent"`
	Moderation *struct {
		Note      *string     `json:"note"`
		CanAppeal bool        `json:"canAppeal"`
		Appeal    *appealView `json:"appeal"`
	} `json:"moderation"`
}

func (o *gqlOwned) own() *ownModeration {
	m := &ownModeration{Status: o.Status, BodyHTML: o.BodyHTML, CreatedAt: o.CreatedAt, Depth: o.Depth}
	if o.Rule != nil {
		m.Rule = *o.Rule
	}
	if o.Parent != nil {
		m.ParentID = o.Parent.ID
	}
	if mod := o.Moderation; mod != nil {
		m.CanAppeal, m.Appeal = mod.CanAppeal, mod.Appeal
		if mod.Note != nil {
			m.Note = *mod.Note
		}
	}
	return m
}

func fetchQueue(token string, t *Thread) ([]queueItem, int) {
	var out struct {
		Site struct {
			ModerationQueue struct {
				TotalCount int `json:"totalCount"`
				Nodes      []struct {
					ID       string  `json:"id"`
					Status   string  `json:"status"`
					Rule     *string `json:"rule"`
					BodyHTML string  `json:"bodyHTML"`
					Author   *struct {
						ID          string `json:"id"`
						DisplayName string `json:"displayName"`
					} `json:"author"`
					Moderation *struct {
						ReportCount int `json:"reportCount"`
						Reports     []struct {
							Rule  string `json:"rule"`
							Count int    `json:"count"`
						} `json:"reports"`
						Appeal *appealView `json:"appeal"`
					} `json:"moderation"`
				} `json:"nodes"`
			} `json:"moderationQueue"`
		} `json:"site"`
	}
	if err := call(token, queueQuery, map[string]any{"site": t.Site, "article": t.ArticleID}, &out); err != nil {
		return nil, 0
	}
	q := out.Site.ModerationQueue
	items := make([]queueItem, len(q.Nodes))
	for i, n := range q.Nodes {
		it := queueItem{ID: n.ID, Status: n.Status, BodyHTML: n.BodyHTML, Author: "Anonymous"}
		if n.Rule != nil {
			it.Rule = *n.Rule
		}
		if n.Author != nil {
			it.AuthorID, it.Author = n.Author.ID, n.Author.DisplayName
		}
		if m := n.Moderation; m != nil {
			it.ReportCount, it.Appeal = m.ReportCount, m.Appeal
			var parts []string
			for _, r := range m.Reports {
				part := r.Rule
				if r.Count > 1 {
					part += " ×" + strconv.Itoa(r.Count)
				}
				parts = append(parts, part)
			}
			it.Reports = strings.Join(parts, ", ")
		}
		items[i] = it
	}
	return items, q.TotalCount
}

// minePanel lists the reader's own comments on the article that a moderator holds or removed, wherever they
// are in the thread, with what was decided and why, and the appeal.
func (v *ThreadView) minePanel() app.UI {
	if len(v.mod.mineOrder) == 0 {
		return app.Text("")
	}
	return app.Section().Class("tl-queue tl-mine").Aria("labelledby", "tl-mine-title").Body(
		app.H2().ID("tl-mine-title").Text("Your comments under moderation"),
		app.Ol().Class("tl-queue-list").Aria("label", "Your moderated comments").Body(app.Range(v.mod.mineOrder).Slice(func(i int) app.UI {
			id := v.mod.mineOrder[i]
			m := v.mod.mine[id]
			c := &Comment{ID: id, Removed: m.Status == "REMOVED", Pending: m.Status == "PENDING", Rule: m.Rule}
			return app.Li().ID("mine-" + id).Class("tl-comment").Body(
				app.Article().Class("tl-card").Body(
					app.Header().Class("tl-meta").Body(
						app.Time().Class("tl-time").DateTime(m.CreatedAt.UTC().Format(time.RFC3339)).
							Text(relativeTime(m.CreatedAt, time.Now())),
					),
					app.Raw(bodyOpen+m.BodyHTML+`</div>`),
					v.moderationNote(c, m, true),
				),
			)
		})),
	)
}

// step is one API call of a moderation action.
type step struct {
	query string
	vars  map[string]any
}

// act sends the steps of an action from the form key, in order, and then reloads the thread so that everyone's
// view of it, the queue included, is current; done is what the live region says.
func (v *ThreadView) act(ctx app.Context, key, done string, steps ...step) {
	if v.sending != "" {
		return
	}
	v.sending = key
	v.setFailed(key, "")
	token := v.token
	ctx = v.lasting(ctx)
	ctx.Async(func() {
		var err error
		for _, s := range steps {
			if err = call(token, s.query, s.vars, nil); err != nil {
				break
			}
		}
		ctx.Dispatch(func(ctx app.Context) {
			v.sending = ""
			if err != nil {
				v.setFailed(key, err.Error())
				return
			}
			delete(v.drafts, key)
			if v.compose == key {
				v.compose = ""
			}
			v.announce = done
			v.reload(ctx)
		})
	})
}

// lasting returns the component's own context. go-app drops what is dispatched through the context of an
// element that is gone, and an action's form is gone once it succeeds; work that outlives the form (the
// reload after an action) goes through the component's context instead.
func (v *ThreadView) lasting(ctx app.Context) app.Context {
	if v.mounted != nil {
		return *v.mounted
	}
	return ctx
}

// reload reads the thread's first page again, in the current order, and the reader's own view of it.
func (v *ThreadView) reload(ctx app.Context) {
	ctx = v.lasting(ctx)
	t, order := v.thread, v.currentOrder()
	ctx.Async(func() {
		next, err := fetchPage(t, order, "")
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				v.problem = "The comments could not be reloaded: " + err.Error()
				return
			}
			v.thread = next
			v.refreshViewer(ctx)
		})
	})
}

// draft returns the text typed in a form's field.
func (v *ThreadView) draft(key string) string { return strings.TrimSpace(v.drafts[key]) }

// chosen returns the value chosen in a form's select, or its first option.
func (v *ThreadView) chosen(key string, options []string) string {
	if c := v.mod.choice[key]; c != "" {
		return c
	}
	if len(options) > 0 {
		return options[0]
	}
	return ""
}

func (v *ThreadView) choose(key, value string) {
	if v.mod.choice == nil {
		v.mod.choice = map[string]string{}
	}
	v.mod.choice[key] = value
}

// formID turns a form key ("remove:ID") into an element ID.
func formID(key string) string { return "tl-form-" + strings.ReplaceAll(key, ":", "-") }

// smallForm draws one of the forms of moderation and appeals: its fields, its buttons, and why it failed.
func (v *ThreadView) smallForm(key, label string, parts ...app.UI) app.UI {
	parts = append(parts, app.If(v.failed[key] != "", func() app.UI {
		return app.P().Class("tl-problem").Attr("role", "alert").Text(v.failed[key])
	}))
	return app.Form().Class("tl-composer tl-modform").ID(formID(key)).Aria("label", label).Attr("novalidate", true).
		OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault() }).Body(parts...)
}

// textField draws a text area whose text is kept as the form's draft.
func (v *ThreadView) textField(key, label string, required bool) app.UI {
	id := formID(key) + "-text"
	return app.Div().Class("tl-field").Body(
		app.Label().For(id).Text(label),
		app.Textarea().ID(id).Class("tl-text").Rows(2).Required(required).MaxLength(1000).Text(v.drafts[key]).
			OnInput(func(ctx app.Context, e app.Event) {
				if v.drafts == nil {
					v.drafts = map[string]string{}
				}
				v.drafts[key] = ctx.JSSrc().Get("value").String()
			}, app.EventScope(key)),
	)
}

// ruleField draws a choice among the site's rules.
func (v *ThreadView) ruleField(key, label string) app.UI {
	id := formID(key) + "-rule"
	current := v.chosen(key, v.mod.rules)
	return app.Div().Class("tl-field").Body(
		app.Label().For(id).Text(label),
		app.Select().ID(id).Class("tl-select").
			OnChange(func(ctx app.Context, e app.Event) { v.choose(key, ctx.JSSrc().Get("value").String()) }, app.EventScope(key)).
			Body(app.Range(v.mod.rules).Slice(func(i int) app.UI {
				r := v.mod.rules[i]
				return app.Option().Value(r).Selected(r == current).Text(r)
			})),
	)
}

// buttons draws a form's buttons; the first does the action.
func (v *ThreadView) buttons(key string, actions ...app.UI) app.UI {
	return app.Div().Class("tl-compose-foot").Body(
		app.Button().Type("button").Class("tl-act").OnClick(func(ctx app.Context, e app.Event) { v.compose = "" }).Text("Cancel"),
		app.Range(actions).Slice(func(i int) app.UI { return actions[i] }),
	)
}

// sendButton draws a form's action button. Its handler is scoped to the form and the label, so that a form
// drawn where another was (see commentView) gets its own.
func (v *ThreadView) sendButton(key, label string, onClick func(ctx app.Context)) app.UI {
	return app.Button().Type("button").Class("tl-send").Disabled(v.sending == key).
		OnClick(func(ctx app.Context, e app.Event) { onClick(ctx) }, app.EventScope(key, label)).Text(label)
}

// needText refuses an empty reason in a form, saying so next to it; it reports whether the text is there.
func (v *ThreadView) needText(key, what string) bool {
	if v.draft(key) == "" {
		v.setFailed(key, "Write "+what+" first: every moderation decision says why.")
		return false
	}
	return true
}

// moderationNote draws, under the reader's own held or removed comment, what happened to it: the rule and the
// moderator's note and, with appeal (in the panel of their moderated comments), the appeal, its form or its
// answer.
func (v *ThreadView) moderationNote(c *Comment, m *ownModeration, appeal bool) app.UI {
	var what string
	switch {
	case c.Removed:
		what = "A moderator removed your comment: " + c.Rule + ". Only you can see it."
	case c.Rule != "":
		what = "Your comment is held for review after readers reported it: " + c.Rule + ". Only you can see it."
	default:
		what = "Your comment is waiting for a moderator. Only you can see it until it is approved."
	}
	key := "appeal:" + c.ID
	return app.Div().Class("tl-modnote").Attr("role", "note").Body(
		app.P().Text(what),
		app.If(m != nil && m.Note != "", func() app.UI { return app.P().Body(app.Text("The moderator's note: "), isolated(m.Note)) }),
		app.If(!appeal && m != nil, func() app.UI {
			return app.P().Text("The decision, and your appeal, are under “Your comments under moderation” above.")
		}),
		app.If(appeal && m != nil && m.Appeal != nil, func() app.UI { return appealStatus(m.Appeal) }),
		app.If(appeal && m != nil && m.CanAppeal && v.compose != key, func() app.UI {
			return app.Button().Class("tl-act").OnClick(func(ctx app.Context, e app.Event) { v.openComposer(key) }, app.EventScope(key)).Text("Appeal")
		}),
		app.If(appeal && v.compose == key, func() app.UI {
			return v.smallForm(key, "Appeal the decision",
				v.textField(key, "Why should the decision change? You can appeal once.", true),
				v.buttons(key, v.sendButton(key, "Send appeal", func(ctx app.Context) {
					if v.needText(key, "your appeal") {
						v.act(ctx, key, "Your appeal was sent.", step{appealMutation, map[string]any{"id": c.ID, "text": v.draft(key)}})
					}
				})),
			)
		}),
	)
}

func appealStatus(a *appealView) app.UI {
	switch a.Status {
	case "UPHELD":
		return app.P().Class("tl-answer").Body(app.Text("A moderator answered your appeal and kept the decision: "), isolated(a.Answer))
	case "REVERSED":
		return app.P().Class("tl-answer").Body(app.Text("A moderator answered your appeal and reversed the decision: "), isolated(a.Answer))
	}
	return app.P().Body(app.Text("You appealed: “"), isolated(a.Text), app.Text("” A moderator will answer."))
}

// moderatorActions draws the moderator's buttons on a comment of the thread.
func (v *ThreadView) moderatorActions(c *Comment) app.UI {
	id := c.ID
	switch {
	case !v.mod.canModerate || c.Deleted || c.Pending:
		return app.Text("")
	case c.Removed:
		return app.Button().Class("tl-act tl-mod").Aria("expanded", v.compose == "restore:"+c.ID).
			OnClick(func(ctx app.Context, e app.Event) { v.openComposer("restore:" + id) }, app.EventScope(id)).Text("Restore")
	}
	return app.Button().Class("tl-act tl-mod").Aria("expanded", v.compose == "remove:"+c.ID).
		OnClick(func(ctx app.Context, e app.Event) { v.openComposer("remove:" + id) }, app.EventScope(id)).Text("Remove")
}

// commentForms draws the moderation, report and restore forms open under a comment.
func (v *ThreadView) commentForms(c *Comment) app.UI {
	switch v.compose {
	case "remove:" + c.ID:
		return v.removeForm(c.ID, c.AuthorID)
	case "restore:" + c.ID:
		key := v.compose
		return v.smallForm(key, "Restore the comment",
			v.textField(key, "Why it is restored (the author sees this)", true),
			v.buttons(key, v.sendButton(key, "Restore", func(ctx app.Context) {
				if v.needText(key, "a reason") {
					v.act(ctx, key, "The comment was restored.", step{restoreMutation, map[string]any{"id": c.ID, "reason": v.draft(key)}})
				}
			})),
		)
	case "report:" + c.ID:
		key := v.compose
		return v.smallForm(key, "Report the comment",
			v.ruleField(key, "Which rule does it break?"),
			v.buttons(key, v.sendButton(key, "Report", func(ctx app.Context) {
				v.act(ctx, key, "Thank you: the moderators will look at it.",
					step{reportCommentMutation, map[string]any{"id": c.ID, "rule": v.chosen(key, v.mod.rules)}})
			})),
		)
	}
	return app.Text("")
}

// removeForm asks for the rule, a note to the author, and whether to suspend them too.
func (v *ThreadView) removeForm(id, authorID string) app.UI {
	key := "remove:" + id
	days := key + ":days"
	return v.smallForm(key, "Remove the comment",
		v.ruleField(key, "The rule it breaks (everyone sees it)"),
		v.textField(key, "A note to the author (optional)", false),
		app.If(authorID != "", func() app.UI {
			return app.Div().Class("tl-field").Body(
				app.Label().For(formID(days)).Text("Also suspend the author for how many days? (0: no)"),
				app.Input().ID(formID(days)).Class("tl-days").Type("number").Attr("min", "0").Attr("max", "365").
					Value(v.chosen(days, []string{"0"})).
					OnInput(func(ctx app.Context, e app.Event) { v.choose(days, ctx.JSSrc().Get("value").String()) }, app.EventScope(days)),
			)
		}),
		v.buttons(key, v.sendButton(key, "Remove", func(ctx app.Context) {
			rule := v.chosen(key, v.mod.rules)
			steps := []step{{removeMutation, map[string]any{"id": id, "rule": rule, "note": v.draft(key)}}}
			n, _ := strconv.Atoi(v.chosen(days, []string{"0"}))
			if n > 0 {
				steps = append(steps, step{suspendMutation, map[string]any{"id": authorID, "days": n, "reason": "Breaking the rule: " + rule + "."}})
			}
			v.act(ctx, key, "The comment was removed.", steps...)
		})),
	)
}

// queuePanel draws the moderator's tools for the article: the queue of comments waiting for a decision, and
// the lock.
func (v *ThreadView) queuePanel() app.UI {
	if !v.mod.canModerate {
		return app.Text("")
	}
	lockKey := "lock"
	lockLabel, lockDone, lockQuery := "Lock the thread", "The thread is locked.", lockMutation
	if v.thread.Locked {
		lockLabel, lockDone, lockQuery = "Unlock the thread", "The thread is open again.", unlockMutation
	}
	return app.Section().Class("tl-queue").Aria("labelledby", "tl-queue-title").Body(
		app.H2().ID("tl-queue-title").Text(fmt.Sprintf("Moderation: %s waiting", plural(v.mod.queueTotal, "comment", "comments"))),
		app.If(len(v.mod.queue) == 0, func() app.UI { return app.P().Class("tl-status").Text("Nothing waits for a decision.") }),
		app.Ol().Class("tl-queue-list").Aria("label", "Comments waiting for a decision").Body(app.Range(v.mod.queue).Slice(func(i int) app.UI { return v.queueItemView(v.mod.queue[i]) })),
		app.If(v.compose != lockKey, func() app.UI {
			return app.Button().Class("tl-act").OnClick(func(ctx app.Context, e app.Event) { v.openComposer(lockKey) }).Text(lockLabel + "…")
		}).Else(func() app.UI {
			return v.smallForm(lockKey, lockLabel,
				v.textField(lockKey, "Why (shown in the public moderation log)", true),
				v.buttons(lockKey, v.sendButton(lockKey, lockLabel, func(ctx app.Context) {
					if v.needText(lockKey, "a reason") {
						v.act(ctx, lockKey, lockDone, step{lockQuery, map[string]any{"id": v.thread.ArticleID, "reason": v.draft(lockKey)}})
					}
				})),
			)
		}),
	)
}

func (v *ThreadView) queueItemView(it queueItem) app.UI {
	var why string
	var appeal app.UI = app.Text("") // the author's words, isolated from the sentence around them
	switch {
	case it.Appeal != nil && it.Appeal.Status == "OPEN":
		why = "Removed (" + it.Rule + "); the author appeals: “"
		appeal = app.Span().Body(isolated(it.Appeal.Text), app.Text("”"))
	case it.Status == "PENDING" && it.Rule != "":
		why = "Held after reports: " + it.Reports
	case it.Status == "PENDING":
		why = "Waiting for approval"
	default:
		why = "Reported: " + it.Reports
	}
	answerKey := "answer:" + it.ID
	return app.Li().ID("queue-" + it.ID).Class("tl-comment").Body(
		app.Article().Class("tl-card").Body(
			app.Header().Class("tl-meta").Body(authorView(it.Author), app.Text(" · "+why), appeal),
			app.Raw(bodyOpen+it.BodyHTML+`</div>`),
			app.If(it.Appeal != nil && it.Appeal.Status == "OPEN", func() app.UI {
				return v.smallForm(answerKey, "Answer the appeal",
					v.textField(answerKey, "Your answer to the author", true),
					app.Div().Class("tl-compose-foot").Body(
						v.sendButton(answerKey, "Keep the decision", func(ctx app.Context) { v.answer(ctx, it.ID, "UPHOLD") }),
						v.sendButton(answerKey, "Reverse it", func(ctx app.Context) { v.answer(ctx, it.ID, "REVERSE") }),
					),
				)
			}).Else(func() app.UI {
				return app.Footer().Class("tl-actions").Body(
					app.Button().Class("tl-act").Disabled(v.sending != "").
						OnClick(func(ctx app.Context, e app.Event) {
							v.act(ctx, "queue:"+it.ID, "The comment was approved.", step{approveMutation, map[string]any{"id": it.ID}})
						}, app.EventScope(it.ID)).Text("Approve"),
					app.Button().Class("tl-act").Aria("expanded", v.compose == "remove:"+it.ID).
						OnClick(func(ctx app.Context, e app.Event) { v.openComposer("remove:" + it.ID) }, app.EventScope(it.ID)).Text("Remove"),
				)
			}),
			app.If(v.compose == "remove:"+it.ID, func() app.UI { return v.removeForm(it.ID, it.AuthorID) }),
			app.If(v.failed["queue:"+it.ID] != "", func() app.UI {
				return app.P().Class("tl-problem").Attr("role", "alert").Text(v.failed["queue:"+it.ID])
			}),
		),
	)
}

func (v *ThreadView) answer(ctx app.Context, id, decision string) {
	key := "answer:" + id
	if v.needText(key, "your answer") {
		v.act(ctx, key, "The appeal was answered.", step{answerMutation, map[string]any{"id": id, "decision": decision, "reason": v.draft(key)}})
	}
}

// accountBar offers a signed-in reader what they own: everything they wrote, as a file, and the deletion of
// their account.
func (v *ThreadView) accountBar() app.UI {
	if !v.client || v.token == "" {
		return app.Text("")
	}
	name := v.name
	if name == "" {
		name = "you"
	}
	return app.Footer().Class("tl-account").Body(
		app.Span().Body(app.Text("Signed in as "), isolated(name), app.Text(" · ")),
		app.Button().Class("tl-act").OnClick(v.downloadMyData).Text("Download my data"),
		app.Text(" "),
		app.Button().Class("tl-act").OnClick(v.deleteMyAccount).Text("Delete my account"),
		app.If(v.failed["account"] != "", func() app.UI {
			return app.P().Class("tl-problem").Attr("role", "alert").Text(v.failed["account"])
		}),
	)
}

// downloadMyData saves everything the reader wrote on the site as a JSON file.
func (v *ThreadView) downloadMyData(ctx app.Context, e app.Event) {
	token := v.token
	ctx.Async(func() {
		resp, err := post(token, exportQuery, nil)
		if err == nil {
			err = decode(resp, nil)
		}
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				v.setFailed("account", "Your data could not be exported: "+err.Error())
				return
			}
			w := app.Window()
			blob := w.Get("Blob").New([]any{string(resp)}, map[string]any{"type": "application/json"})
			url := w.Get("URL").Call("createObjectURL", blob)
			a := w.Get("document").Call("createElement", "a")
			a.Set("href", url)
			a.Set("download", "threadline-my-data.json")
			a.Call("click")
			w.Get("URL").Call("revokeObjectURL", url)
			v.announce = "Your data was downloaded."
		})
	})
}

// deleteMyAccount deletes the reader's account after they confirm.
func (v *ThreadView) deleteMyAccount(ctx app.Context, e app.Event) {
	if !app.Window().Call("confirm", "Delete your account? Your name, your likes and the text of all your comments will be erased. This cannot be undone.").Bool() {
		return
	}
	token := v.token
	ctx = v.lasting(ctx)
	ctx.Async(func() {
		err := call(token, deleteAccountMutation, nil, nil)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				v.setFailed("account", "Your account could not be deleted: "+err.Error())
				return
			}
			v.signOut(ctx)
			v.announce = "Your account was deleted."
			v.reload(ctx)
		})
	})
}
