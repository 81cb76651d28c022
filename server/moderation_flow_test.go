package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/threadline/threadline/thread"
)

// modComment is a comment with what moderation adds to it.
type modComment struct {
	ID       string
	Status   string
	Body     string
	Rule     *string
	Author   *struct{ DisplayName string }
	Moderate *struct {
		Note        *string
		ReportCount int
		Reports     []struct {
			Rule  string
			Count int
		}
		CanAppeal bool
		Appeal    *struct {
			Text   string
			Status string
			Answer *string
		}
	} `json:"moderation"`
}

const modCommentFields = `id status body rule author { displayName }
	moderation { note reportCount reports { rule count } canAppeal appeal { text status answer } }`

// comment returns comment id as token sees it, or nil when it cannot.
func (fx *modFixture) modComment(tb testing.TB, token, id string) *modComment {
	tb.Helper()
	var data struct{ Node *modComment }
	fx.mustDo(tb, token, `query($id: ID!) { node(id: $id) { ... on Comment { `+modCommentFields+` } } }`, map[string]any{"id": id}, &data)
	return data.Node
}

// listed returns the IDs of the blog article's top-level comments, as token sees them, oldest first.
func (fx *modFixture) listed(tb testing.TB, token string) (ids []string, total, commentCount int) {
	tb.Helper()
	var data struct {
		Node struct {
			CommentCount int
			Comments     struct {
				TotalCount int
				Nodes      []struct{ ID string }
			}
		}
	}
	fx.mustDo(tb, token, `query($a: ID!) { node(id: $a) { ... on Article { commentCount comments(orderBy: OLDEST, first: 100) { totalCount nodes { id } } } } }`,
		map[string]any{"a": fx.article}, &data)
	for _, n := range data.Node.Comments.Nodes {
		ids = append(ids, n.ID)
	}
	return ids, data.Node.Comments.TotalCount, data.Node.CommentCount
}

type logEntry struct {
	Action    string
	Rule      *string
	Reason    *string
	CommentID *string
	Decision  *string
	By        string
}

func (fx *modFixture) log(tb testing.TB) []logEntry {
	tb.Helper()
	var data struct {
		Node struct{ ModerationLog struct{ Nodes []logEntry } }
	}
	fx.mustDo(tb, "", `query($a: ID!) { node(id: $a) { ... on Article { moderationLog { nodes { action rule reason commentId decision by } } } } }`,
		map[string]any{"a": fx.article}, &data)
	return data.Node.ModerationLog.Nodes
}

func TestRemoveAppealAnswer(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, _ := fx.user(t, "Ada", false)
	reader, _ := fx.user(t, "Bo", false)
	moderator, _ := fx.user(t, "Mo", true)
	id := fx.addComment(t, author, fx.article, "", "I will break every camera in town.")

	fx.mutate(t, moderator, removeMutation, map[string]any{"c": id, "rule": "threat of violence", "note": "Threats are not allowed."})

	// Everyone else sees a placeholder that keeps the thread's shape: the rule, no body, no author, no note.
	for name, token := range map[string]string{"anonymous": "", "another reader": reader} {
		c := fx.modComment(t, token, id)
		if c == nil || c.Status != "REMOVED" || c.Body != "" || c.Author != nil || c.Rule == nil || *c.Rule != "Threat of violence" || c.Moderate != nil {
			t.Errorf("%s sees %+v, want a placeholder with the rule and nothing else", name, c)
		}
	}
	if ids, total, count := fx.listed(t, reader); len(ids) != 1 || ids[0] != id || total != 1 || count != 0 {
		t.Errorf("list: %v, total %d, commentCount %d; want the placeholder in place, counted as a listed but not a published comment", ids, total, count)
	}
	// The author sees it all, with the note, and may appeal.
	c := fx.modComment(t, author, id)
	if c.Body == "" || c.Moderate == nil || c.Moderate.Note == nil || *c.Moderate.Note != "Threats are not allowed." || !c.Moderate.CanAppeal {
		t.Fatalf("the author sees %+v", c)
	}
	var mine struct {
		Node struct{ ViewerModeratedComments []modComment }
	}
	fx.mustDo(t, author, `query($a: ID!) { node(id: $a) { ... on Article { viewerModeratedComments { `+modCommentFields+` } } } }`,
		map[string]any{"a": fx.article}, &mine)
	if got := mine.Node.ViewerModeratedComments; len(got) != 1 || got[0].ID != id {
		t.Errorf("viewerModeratedComments = %+v", got)
	}

	// One appeal, then a moderator's answer that the author sees.
	fx.mutate(t, author, appealMutation, map[string]any{"c": id, "text": "It was a figure of speech."})
	expectError(t, fx.do(t, author, appealMutation, map[string]any{"c": id, "text": "Again."}), "CONFLICT")
	if c := fx.modComment(t, author, id); c.Moderate.CanAppeal || c.Moderate.Appeal == nil || c.Moderate.Appeal.Status != "OPEN" {
		t.Errorf("after appealing: %+v", c.Moderate)
	}
	if q := fx.queue(t, moderator); len(q) != 1 || q[0] != id {
		t.Errorf("the queue with an open appeal: %v", q)
	}
	fx.mutate(t, fx.key, answerMutation, map[string]any{"c": id, "d": "UPHOLD", "reason": "A threat reads as a threat."})
	expectError(t, fx.do(t, moderator, answerMutation, map[string]any{"c": id, "d": "REVERSE", "reason": "Twice."}), "CONFLICT")
	if q := fx.queue(t, moderator); len(q) != 0 {
		t.Errorf("the queue after the answer: %v", q)
	}
	c = fx.modComment(t, author, id)
	if a := c.Moderate.Appeal; a.Status != "UPHELD" || a.Answer == nil || *a.Answer != "A threat reads as a threat." || c.Status != "REMOVED" {
		t.Errorf("the author sees the answer as %+v, status %s", a, c.Status)
	}

	// A reversed appeal publishes the comment again.
	second := fx.addComment(t, author, fx.article, "", "Cameras everywhere are a mistake.")
	fx.mutate(t, fx.key, removeMutation, map[string]any{"c": second, "rule": "Off-topic"})
	fx.mutate(t, author, appealMutation, map[string]any{"c": second, "text": "It is the article's topic."})
	fx.mutate(t, moderator, answerMutation, map[string]any{"c": second, "d": "REVERSE", "reason": "It is on topic."})
	if c := fx.modComment(t, reader, second); c.Status != "PUBLISHED" || c.Body == "" || c.Rule != nil {
		t.Errorf("after reversal others see %+v", c)
	}

	// The public log says what happened and why, never who.
	want := []logEntry{
		{Action: "ANSWER_APPEAL", CommentID: &second, Decision: ptr("REVERSED"), By: "MODERATOR"},
		{Action: "REMOVE", Rule: ptr("Off-topic"), CommentID: &second, By: "MODERATOR"},
		{Action: "ANSWER_APPEAL", CommentID: &id, Decision: ptr("UPHELD"), By: "MODERATOR"},
		{Action: "REMOVE", Rule: ptr("Threat of violence"), CommentID: &id, By: "MODERATOR"},
	}
	if got := fx.log(t); !equalJSON(got, want) {
		t.Errorf("log:\n%s\nwant\n%s", asJSON(got), asJSON(want))
	}
	var report struct {
		Site struct {
			TransparencyReport struct {
				Actions []struct {
					Action string
					Count  int
				}
				RemovalsByRule []struct {
					Rule  string
					Count int
				}
				AppealsUpheld   int
				AppealsReversed int
			}
		}
	}
	fx.mustDo(t, "", `{ site(slug: "blog") { transparencyReport { actions { action count } removalsByRule { rule count } appealsUpheld appealsReversed } } }`, nil, &report)
	tr := report.Site.TransparencyReport
	if len(tr.Actions) != 2 || len(tr.RemovalsByRule) != 2 || tr.AppealsUpheld != 1 || tr.AppealsReversed != 1 {
		t.Errorf("transparency report: %+v", tr)
	}
}

func ptr[T any](v T) *T { return &v }

// queue returns the IDs in the blog's moderation queue, as token sees it.
func (fx *modFixture) queue(tb testing.TB, token string) []string {
	tb.Helper()
	var data struct {
		Site struct {
			ModerationQueue struct{ Nodes []struct{ ID string } }
		}
	}
	fx.mustDo(tb, token, `{ site(slug: "blog") { moderationQueue { nodes { id } } } }`, nil, &data)
	var ids []string
	for _, n := range data.Site.ModerationQueue.Nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func equalJSON(a, b any) bool { return asJSON(a) == asJSON(b) }

func TestPremoderation(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{Premoderation: true})
	author, _ := fx.user(t, "Ada", false)
	reader, _ := fx.user(t, "Bo", false)
	moderator, _ := fx.user(t, "Mo", true)

	id := fx.addComment(t, author, fx.article, "", "First!")
	if c := fx.modComment(t, author, id); c == nil || c.Status != "PENDING" {
		t.Fatalf("the author sees %+v, want their PENDING comment", c)
	}
	for name, token := range map[string]string{"anonymous": "", "another reader": reader} {
		if c := fx.modComment(t, token, id); c != nil {
			t.Errorf("%s sees the pending comment: %+v", name, c)
		}
		if ids, total, count := fx.listed(t, token); len(ids) != 0 || total != 0 || count != 0 {
			t.Errorf("%s lists %v (total %d, count %d)", name, ids, total, count)
		}
	}
	// Others cannot act on what they cannot see, and are not told it exists.
	expectError(t, fx.do(t, reader, `mutation($c: ID!) { likeComment(input: {commentId: $c}) { comment { id } } }`, map[string]any{"c": id}), "NOT_FOUND")
	expectError(t, fx.do(t, reader, `mutation($a: ID!, $c: ID!) { addComment(input: {articleId: $a, parentId: $c, body: "x"}) { comment { id } } }`,
		map[string]any{"a": fx.article, "c": id}), "NOT_FOUND")

	var queue struct {
		Site struct {
			ModerationQueue struct {
				TotalCount int
				Nodes      []struct{ ID, Body string }
			}
		}
	}
	fx.mustDo(t, moderator, `query($a: ID) { site(slug: "blog") { moderationQueue(articleId: $a) { totalCount nodes { id body } } } }`,
		map[string]any{"a": fx.article}, &queue)
	if q := queue.Site.ModerationQueue; q.TotalCount != 1 || len(q.Nodes) != 1 || q.Nodes[0].ID != id || q.Nodes[0].Body != "First!" {
		t.Errorf("queue: %+v", q)
	}
	// A moderator's own comment needs no approval.
	own := fx.addComment(t, moderator, fx.article, "", "Welcome, all.")
	if c := fx.modComment(t, "", own); c == nil || c.Status != "PUBLISHED" {
		t.Errorf("the moderator's comment: %+v", c)
	}

	fx.mutate(t, moderator, `mutation($c: ID!) { approveComment(input: {commentId: $c}) { comment { id } } }`, map[string]any{"c": id})
	if ids, total, count := fx.listed(t, reader); len(ids) != 2 || total != 2 || count != 2 {
		t.Errorf("after approval: %v (total %d, count %d)", ids, total, count)
	}
	expectError(t, fx.do(t, moderator, `mutation($c: ID!) { approveComment(input: {commentId: $c}) { comment { id } } }`, map[string]any{"c": id}), "CONFLICT")
	if log := fx.log(t); len(log) != 1 || log[0].Action != "APPROVE" {
		t.Errorf("log: %+v", log)
	}
}

func TestReportsHoldAComment(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{ReportThreshold: 2})
	author, _ := fx.user(t, "Ada", false)
	first, _ := fx.user(t, "Bo", false)
	second, _ := fx.user(t, "Cy", false)
	id := fx.addComment(t, author, fx.article, "", "Buy cheap watches at example.com")

	expectError(t, fx.do(t, first, reportMutation, map[string]any{"c": id, "rule": "Rudeness"}), "BAD_USER_INPUT")
	fx.mutate(t, first, reportMutation, map[string]any{"c": id, "rule": "spam"})
	expectError(t, fx.do(t, first, reportMutation, map[string]any{"c": id, "rule": "Spam"}), "CONFLICT")
	if c := fx.modComment(t, fx.key, id); c.Status != "PUBLISHED" || c.Moderate.ReportCount != 1 || len(c.Moderate.Reports) != 1 || c.Moderate.Reports[0].Rule != "Spam" {
		t.Errorf("after one report, moderators see %+v", c.Moderate)
	}
	if c := fx.modComment(t, author, id); c.Moderate.ReportCount != 0 || len(c.Moderate.Reports) != 0 {
		t.Errorf("the author sees the reports: %+v", c.Moderate)
	}

	fx.mutate(t, second, reportMutation, map[string]any{"c": id, "rule": "Spam"})
	if c := fx.modComment(t, "", id); c != nil {
		t.Errorf("a held comment is shown to anonymous readers: %+v", c)
	}
	c := fx.modComment(t, author, id)
	if c.Status != "PENDING" || c.Rule == nil || *c.Rule != "Spam" || !c.Moderate.CanAppeal {
		t.Errorf("the author of a held comment sees %+v", c)
	}
	if log := fx.log(t); len(log) != 1 || log[0].Action != "HOLD" || log[0].By != "SYSTEM" || *log[0].Rule != "Spam" {
		t.Errorf("log: %+v", log)
	}
	// The moderator dismisses the reports: the comment is back, and its reports are cleared.
	fx.mutate(t, fx.key, `mutation($c: ID!) { approveComment(input: {commentId: $c, note: "Looks fine."}) { comment { id } } }`, map[string]any{"c": id})
	if c := fx.modComment(t, fx.key, id); c.Status != "PUBLISHED" || c.Moderate.ReportCount != 0 || c.Rule != nil {
		t.Errorf("after approval: %+v", c)
	}
}

func TestEditWindowAndLocks(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{EditWindow: 15 * time.Minute})
	author, _ := fx.user(t, "Ada", false)
	id := fx.addComment(t, author, fx.article, "", "Frist")
	edit := `mutation($c: ID!, $b: String!) { editComment(input: {commentId: $c, body: $b}) { comment { body } } }`
	fx.mutate(t, author, edit, map[string]any{"c": id, "b": "First"})
	fx.clock.advance(16 * time.Minute)
	r := fx.do(t, author, edit, map[string]any{"c": id, "b": "Fist"})
	expectError(t, r, "FORBIDDEN")
	if !strings.Contains(r.Errors[0].Message, "15 minutes") {
		t.Errorf("message %q does not say the window", r.Errors[0].Message)
	}

	lock := `mutation($a: ID!, $r: String!) { lockArticle(input: {articleId: $a, reason: $r}) { article { locked } } }`
	expectError(t, fx.do(t, fx.key, lock, map[string]any{"a": fx.article, "r": " "}), "BAD_USER_INPUT")
	fx.mutate(t, fx.key, lock, map[string]any{"a": fx.article, "r": "The discussion turned to threats."})
	expectError(t, fx.do(t, fx.key, lock, map[string]any{"a": fx.article, "r": "Again."}), "CONFLICT")
	expectError(t, fx.do(t, author, `mutation($a: ID!) { addComment(input: {articleId: $a, body: "x"}) { comment { id } } }`,
		map[string]any{"a": fx.article}), "FORBIDDEN")
	fx.mutate(t, fx.key, `mutation($a: ID!) { unlockArticle(input: {articleId: $a, reason: "Calmer now."}) { article { locked } } }`, map[string]any{"a": fx.article})
	fx.addComment(t, author, fx.article, "", "Thanks for reopening.")
	log := fx.log(t)
	if len(log) != 2 || log[1].Action != "LOCK" || log[1].Reason == nil || *log[1].Reason != "The discussion turned to threats." || log[0].Action != "UNLOCK" {
		t.Errorf("log: %s", asJSON(log))
	}
}

func TestSuspension(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, authorID := fx.signIn(t, "blog", fx.hostToken(t, fx.secret, "ada", "Ada", false))
	reader, _ := fx.user(t, "Bo", false)
	suspend := `mutation($r: ID!, $d: Int!) { suspendReader(input: {readerId: $r, days: $d, reason: "Repeated threats."}) { reader { suspension { until reason } } } }`
	expectError(t, fx.do(t, fx.key, suspend, map[string]any{"r": authorID, "d": 0}), "BAD_USER_INPUT")
	expectError(t, fx.do(t, fx.otherKey, suspend, map[string]any{"r": authorID, "d": 3}), "FORBIDDEN")
	fx.mutate(t, fx.key, suspend, map[string]any{"r": authorID, "d": 3})

	r := fx.do(t, author, `mutation($a: ID!) { addComment(input: {articleId: $a, body: "Still here"}) { comment { id } } }`, map[string]any{"a": fx.article})
	expectError(t, r, "FORBIDDEN")
	if !strings.Contains(r.Errors[0].Message, "Repeated threats.") {
		t.Errorf("the suspended reader is not told why: %q", r.Errors[0].Message)
	}
	viewerSuspension := func(token, id string) *struct{ Reason string } {
		var data struct {
			Node *struct {
				Suspension *struct{ Reason string }
			}
		}
		fx.mustDo(t, token, `query($id: ID!) { node(id: $id) { ... on Reader { suspension { reason } } } }`, map[string]any{"id": id}, &data)
		return data.Node.Suspension
	}
	if s := viewerSuspension(author, authorID); s == nil || s.Reason != "Repeated threats." {
		t.Errorf("the reader sees their suspension as %+v", s)
	}
	if s := viewerSuspension(reader, authorID); s != nil {
		t.Errorf("another reader sees the suspension: %+v", s)
	}
	fx.clock.advance(3*24*time.Hour + time.Minute)
	author, _ = fx.signIn(t, "blog", fx.hostToken(t, fx.secret, "ada", "Ada", false)) // the old session has expired
	fx.addComment(t, author, fx.article, "", "Back, and calmer.")
}

func TestSignIn(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	exp := func() int64 { return fx.clock.now().Add(time.Hour).Unix() }
	token, id := fx.signIn(t, "blog", sign(t, fx.secret, jwt.MapClaims{"sub": "42", "name": "Ada", "exp": exp()}))
	// The same user signing in again, under a new name, is the same reader, renamed.
	_, again := fx.signIn(t, "blog", sign(t, fx.secret, jwt.MapClaims{"sub": "42", "name": "Ada L.", "exp": exp()}))
	if again != id {
		t.Errorf("the same sub mapped to %s and %s", id, again)
	}
	var viewer struct {
		Viewer struct{ ID, DisplayName string }
		Site   struct{ ViewerCanModerate bool }
	}
	fx.mustDo(t, token, `{ viewer { id displayName } site(slug: "blog") { viewerCanModerate } }`, nil, &viewer)
	if viewer.Viewer.ID != id || viewer.Viewer.DisplayName != "Ada L." || viewer.Site.ViewerCanModerate {
		t.Errorf("viewer: %+v", viewer)
	}

	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "1", "name": "Eve", "moderator": true, "exp": exp()})
	unsigned, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	signIn := `mutation($s: String!, $t: String!) { signIn(input: {site: $s, token: $t}) { token } }`
	for _, tc := range []struct {
		name, site, token, code string
	}{
		{"alg none", "blog", unsigned, "UNAUTHENTICATED"},
		{"another site's secret", "blog", sign(t, fx.otherSecret, jwt.MapClaims{"sub": "1", "name": "Eve", "exp": exp()}), "UNAUTHENTICATED"},
		{"expired", "blog", sign(t, fx.secret, jwt.MapClaims{"sub": "1", "name": "Eve", "exp": fx.clock.now().Add(-time.Hour).Unix()}), "UNAUTHENTICATED"},
		{"no exp", "blog", sign(t, fx.secret, jwt.MapClaims{"sub": "1", "name": "Eve"}), "UNAUTHENTICATED"},
		{"no sub", "blog", sign(t, fx.secret, jwt.MapClaims{"name": "Eve", "exp": exp()}), "UNAUTHENTICATED"},
		{"no name", "blog", sign(t, fx.secret, jwt.MapClaims{"sub": "1", "exp": exp()}), "BAD_USER_INPUT"},
		{"garbage", "blog", "not.a.jwt", "UNAUTHENTICATED"},
		{"a site without a secret", "demo", sign(t, "", jwt.MapClaims{"sub": "1", "name": "Eve", "exp": exp()}), "UNAUTHENTICATED"},
		{"no such site", "nowhere", sign(t, fx.secret, jwt.MapClaims{"sub": "1", "name": "Eve", "exp": exp()}), "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, fx.do(t, "", signIn, map[string]any{"s": tc.site, "t": tc.token}), tc.code)
		})
	}

	// A host may also send its own token straight to the API when the token names the site in aud.
	direct := sign(t, fx.secret, jwt.MapClaims{"sub": "77", "name": "Direct", "aud": "blog", "moderator": true, "exp": exp()})
	fx.mustDo(t, direct, `{ viewer { displayName } site(slug: "blog") { viewerCanModerate } }`, nil, &viewer)
	if viewer.Viewer.DisplayName != "Direct" || !viewer.Site.ViewerCanModerate {
		t.Errorf("a direct token reads as %+v", viewer)
	}

	// Rotating the secret ends every session signed with the old one.
	if _, err := fx.Svc.RotateSecret(context.Background(), "blog"); err != nil {
		t.Fatal(err)
	}
	expectError(t, fx.do(t, token, `{ viewer { id } }`, nil), "UNAUTHENTICATED")
}

func TestExportAndDeleteAccount(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, authorID := fx.user(t, "Ada", false)
	other, _ := fx.user(t, "Bo", false)
	answered := fx.addComment(t, author, fx.article, "", "A comment with a reply")
	reply := fx.addComment(t, other, fx.article, answered, "A reply by Bo")
	alone := fx.addComment(t, author, fx.article, "", "A comment alone")
	removed := fx.addComment(t, author, fx.article, "", "A removed comment")
	fx.mutate(t, fx.key, removeMutation, map[string]any{"c": removed, "rule": "Spam"})
	fx.mutate(t, author, appealMutation, map[string]any{"c": removed, "text": "My secret appeal text"})
	fx.mutate(t, author, `mutation($c: ID!) { likeComment(input: {commentId: $c}) { comment { id } } }`, map[string]any{"c": reply})
	fx.mutate(t, author, reportMutation, map[string]any{"c": reply, "rule": "Off-topic"})

	var export struct {
		ExportMyData struct {
			Reader          struct{ ID, DisplayName string }
			Comments        []struct{ ID, Body, Status string }
			LikedCommentIds []string
			Reports         []struct{ CommentID, Rule string }
			Appeals         []struct{ CommentID, Text string }
		}
	}
	fx.mustDo(t, author, `{ exportMyData { reader { id displayName } comments { id body status } likedCommentIds reports { commentId rule } appeals { commentId text } } }`, nil, &export)
	d := export.ExportMyData
	if d.Reader.ID != authorID || len(d.Comments) != 3 || d.Comments[2].Status != "REMOVED" || d.Comments[2].Body != "A removed comment" ||
		len(d.LikedCommentIds) != 1 || d.LikedCommentIds[0] != reply || len(d.Reports) != 1 || len(d.Appeals) != 1 || d.Appeals[0].Text != "My secret appeal text" {
		t.Errorf("export: %s", asJSON(d))
	}

	expectError(t, fx.do(t, author, `mutation { deleteMyAccount(input: {confirm: false}) { comments } }`, nil), "BAD_USER_INPUT")
	logBefore := len(fx.log(t))
	fx.mutate(t, author, `mutation { deleteMyAccount(input: {confirm: true}) { comments } }`, nil)

	if c := fx.modComment(t, "", answered); c == nil || c.Status != "DELETED" || c.Body != "" || c.Author != nil {
		t.Errorf("the comment with a reply: %+v, want a DELETED placeholder", c)
	}
	if c := fx.modComment(t, "", reply); c == nil || c.Body != "A reply by Bo" {
		t.Errorf("the reply of another reader: %+v", c)
	}
	if c := fx.modComment(t, "", alone); c != nil {
		t.Errorf("the comment alone survived: %+v", c)
	}
	if c := fx.modComment(t, fx.key, removed); c == nil || c.Status != "REMOVED" || c.Body != "" || c.Author != nil {
		t.Errorf("the removed comment: %+v, want the moderator's placeholder without body or author", c)
	}
	if n := len(fx.log(t)); n != logBefore {
		t.Errorf("the moderation log lost entries: %d, was %d", n, logBefore)
	}
	if snap := fx.snapshot(t); strings.Contains(snap, "My secret appeal text") || strings.Contains(snap, "A comment alone") || strings.Contains(snap, "Ada") {
		t.Errorf("the database still holds what the reader wrote:\n%s", snap)
	}
	var likes struct{ Node struct{ LikeCount int } }
	fx.mustDo(t, "", `query($c: ID!) { node(id: $c) { ... on Comment { likeCount } } }`, map[string]any{"c": reply}, &likes)
	if likes.Node.LikeCount != 0 {
		t.Errorf("the deleted reader's like still counts: %d", likes.Node.LikeCount)
	}
}

// TestModerationRecordsAreAppendOnly changes the log, reports and appeals behind the API's back: the database
// itself refuses.
func TestModerationRecordsAreAppendOnly(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, _ := fx.user(t, "Ada", false)
	reader, _ := fx.user(t, "Bo", false)
	id := fx.addComment(t, author, fx.article, "", "Hello")
	fx.mutate(t, reader, reportMutation, map[string]any{"c": id, "rule": "Spam"})
	fx.mutate(t, fx.key, removeMutation, map[string]any{"c": id, "rule": "Spam"})
	fx.mutate(t, author, appealMutation, map[string]any{"c": id, "text": "Why?"})

	db := fx.DB.Raw(t)
	for _, stmt := range []string{
		"UPDATE moderation_actions SET rule = 'Nothing'",
		"DELETE FROM moderation_actions",
		"UPDATE reports SET rule = 'Nothing'",
		"DELETE FROM reports",
		"UPDATE appeals SET text = 'Rewritten'",
		"DELETE FROM appeals",
	} {
		if _, err := db.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
}

// TestModerationInputLimits sends what moderators and authors write at and past its limits, and SQL and
// markup in it: the limits answer BAD_USER_INPUT and change nothing; what is accepted is stored as the text it is.
func TestModerationInputLimits(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, authorID := fx.user(t, "Ada", false)
	reader, _ := fx.user(t, "Bo", false)
	id := fx.addComment(t, author, fx.article, "", "Hello")
	long := strings.Repeat("é", thread.MaxNoteChars+1)
	sqlish := `'); DROP TABLE moderation_actions; -- <script>alert(1)</script>`
	for _, tc := range []struct {
		name  string
		token string
		query string
		vars  map[string]any
	}{
		{"a note too long", fx.key, removeMutation, map[string]any{"c": id, "rule": "Spam", "note": long}},
		{"a rule the site does not have", fx.key, removeMutation, map[string]any{"c": id, "rule": sqlish}},
		{"a report citing no rule", reader, reportMutation, map[string]any{"c": id, "rule": ""}},
		{"a suspension of 366 days", fx.key, `mutation($r: ID!) { suspendReader(input: {readerId: $r, days: 366, reason: "x"}) { reader { id } } }`, map[string]any{"r": authorID}},
		{"a suspension without a reason", fx.key, `mutation($r: ID!) { suspendReader(input: {readerId: $r, days: 1, reason: " \n "}) { reader { id } } }`, map[string]any{"r": authorID}},
		{"a restore without a reason", fx.key, `mutation($c: ID!) { restoreComment(input: {commentId: $c, reason: ""}) { comment { id } } }`, map[string]any{"c": id}},
		{"a comment ID of another kind", fx.key, removeMutation, map[string]any{"c": fx.article, "rule": "Spam"}},
		{"a sign-in token of 5 KB", "", `mutation($t: String!) { signIn(input: {site: "blog", token: $t}) { token } }`, map[string]any{"t": strings.Repeat("a", 5000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fx.snapshot(t)
			r := fx.do(t, tc.token, tc.query, tc.vars)
			if code := r.code(); code != "BAD_USER_INPUT" && code != "UNAUTHENTICATED" {
				t.Errorf("code %q (%+v)", code, r.Errors)
			}
			if fx.snapshot(t) != before {
				t.Error("a refused request changed the database")
			}
		})
	}
	fx.mutate(t, fx.key, removeMutation, map[string]any{"c": id, "rule": "Spam", "note": sqlish})
	if c := fx.modComment(t, author, id); c.Moderate == nil || c.Moderate.Note == nil || *c.Moderate.Note != sqlish {
		t.Errorf("the note came back as %+v", c.Moderate)
	}
	if n := len(fx.log(t)); n != 1 {
		t.Errorf("the log has %d entries", n)
	}
}
