package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/threadline/threadline/thread"
)

// modFixture is a test server with two sites made as their owners make them, each with a signing secret and a
// moderator key, and an article on the first.
type modFixture struct {
	*testServer
	secret, key           string // the blog's
	otherSecret, otherKey string // another site's
	article               string // the blog's article
	n                     int    // makes subjects and keys unique
}

func newModFixture(tb testing.TB, set thread.SiteSettings) *modFixture {
	tb.Helper()
	ts := newTestServer(tb)
	ctx := context.Background()
	set.Name = "Blog"
	blog, secret, key, err := ts.Svc.CreateSite(ctx, "blog", set)
	if err != nil {
		tb.Fatal(err)
	}
	_, otherSecret, otherKey, err := ts.Svc.CreateSite(ctx, "other", thread.SiteSettings{Name: "Other"})
	if err != nil {
		tb.Fatal(err)
	}
	fx := &modFixture{testServer: ts, secret: secret, key: key, otherSecret: otherSecret, otherKey: otherKey}
	fx.article = fx.newArticle(tb, blog.ID)
	return fx
}

// newArticle makes an article on the site and returns its global ID.
func (fx *modFixture) newArticle(tb testing.TB, siteID int64) string {
	tb.Helper()
	fx.n++
	a := &thread.Article{SiteID: siteID, Key: fmt.Sprint("post-", fx.n), Title: "A post"}
	if _, err := fx.Svc.ImportArticle(context.Background(), a, nil); err != nil {
		tb.Fatal(err)
	}
	return mkID("Article", a.ID)
}

// sign makes a token as a host site signs it: HS256 with the site's secret.
func sign(tb testing.TB, secret string, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// hostToken is a token the host site signs for one of its users, valid for an hour of the server's clock.
func (fx *modFixture) hostToken(tb testing.TB, secret, sub, name string, moderator bool) string {
	claims := jwt.MapClaims{"sub": sub, "name": name, "exp": fx.clock.now().Add(time.Hour).Unix()}
	if moderator {
		claims["moderator"] = true
	}
	return sign(tb, secret, claims)
}

// signIn exchanges a host token for a session on site and returns the session token and the reader's ID.
func (fx *modFixture) signIn(tb testing.TB, site, hostToken string) (token, readerID string) {
	tb.Helper()
	var data struct {
		SignIn struct {
			Token  string
			Reader struct{ ID string }
		}
	}
	fx.mustDo(tb, "", `mutation($s: String!, $t: String!) { signIn(input: {site: $s, token: $t}) { token reader { id } } }`,
		map[string]any{"s": site, "t": hostToken}, &data)
	return data.SignIn.Token, data.SignIn.Reader.ID
}

// user signs a new user of the blog in and returns their session token and reader ID.
func (fx *modFixture) user(tb testing.TB, name string, moderator bool) (token, readerID string) {
	fx.n++
	return fx.signIn(tb, "blog", fx.hostToken(tb, fx.secret, fmt.Sprint("user-", fx.n), name, moderator))
}

// mutate runs a mutation that must succeed.
func (fx *modFixture) mutate(tb testing.TB, token, query string, vars map[string]any) {
	tb.Helper()
	fx.mustDo(tb, token, query, vars, nil)
}

const (
	removeMutation = `mutation($c: ID!, $rule: String!, $note: String) { removeComment(input: {commentId: $c, rule: $rule, note: $note}) { comment { id status } } }`
	appealMutation = `mutation($c: ID!, $text: String!) { appealModeration(input: {commentId: $c, text: $text}) { comment { id } } }`
	reportMutation = `mutation($c: ID!, $rule: String!) { reportComment(input: {commentId: $c, rule: $rule}) { commentId } }`
	answerMutation = `mutation($c: ID!, $d: AppealDecision!, $reason: String!) { answerAppeal(input: {commentId: $c, decision: $d, reason: $reason}) { comment { id status } } }`
)

// snapshot is everything an action could change, read straight from the database.
func (fx *modFixture) snapshot(tb testing.TB) string {
	tb.Helper()
	db := fx.DB.Raw(tb)
	var out strings.Builder
	for _, q := range []string{
		"SELECT id, status, body, author_id, like_count, reply_count, report_count, rule, note, edited_at FROM comments ORDER BY id",
		"SELECT id, locked, comment_count, top_level_count FROM articles ORDER BY id",
		"SELECT id, display_name, suspended_until, token_hash, sso_subject FROM readers ORDER BY id",
		"SELECT count(*) FROM moderation_actions", "SELECT count(*) FROM reports", "SELECT text FROM appeals ORDER BY text", "SELECT count(*) FROM likes",
	} {
		rows, err := db.Query(q)
		if err != nil {
			tb.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			fmt.Fprintf(&out, "%v;", vals)
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		rows.Close()
		out.WriteString("\n")
	}
	return out.String()
}

// TestRolesAgainstActions runs every action as every kind of caller: each is allowed exactly where it should
// be, answers the documented code where it is not, and a refused one changes nothing in the database.
func TestRolesAgainstActions(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})

	// A case's target: made fresh for each case by the author, so that cases cannot disturb each other.
	type target struct {
		author, authorID string // the author's session and reader ID
		comment          string
		article          string
	}
	newTarget := func(t *testing.T) target {
		author, authorID := fx.user(t, "Author", false)
		return target{author: author, authorID: authorID, comment: fx.addComment(t, author, fx.article, "", "A comment"), article: fx.article}
	}
	removed := func(t *testing.T) target {
		tg := newTarget(t)
		fx.mutate(t, fx.key, removeMutation, map[string]any{"c": tg.comment, "rule": "Spam"})
		return tg
	}
	appealed := func(t *testing.T) target {
		tg := removed(t)
		fx.mutate(t, tg.author, appealMutation, map[string]any{"c": tg.comment, "text": "It was not spam."})
		return tg
	}
	reported := func(t *testing.T) target {
		tg := newTarget(t)
		reporter, _ := fx.user(t, "Reporter", false)
		fx.mutate(t, reporter, reportMutation, map[string]any{"c": tg.comment, "rule": "Spam"})
		return tg
	}
	freshArticle := func(t *testing.T) target {
		tg := newTarget(t)
		_, id := splitID(t, fx.article)
		var siteID int64
		all, err := fx.Svc.Articles(context.Background(), []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		siteID = all[id].SiteID
		tg.article = fx.newArticle(t, siteID)
		return tg
	}

	// The callers. Each returns the bearer token to act with ("" for none).
	roles := []struct {
		name  string
		token func(t *testing.T, tg target) string
	}{
		{"no token", func(*testing.T, target) string { return "" }},
		{"reader", func(t *testing.T, _ target) string { tok, _ := fx.user(t, "Reader", false); return tok }},
		{"author", func(_ *testing.T, tg target) string { return tg.author }},
		{"moderator", func(t *testing.T, _ target) string { tok, _ := fx.user(t, "Moderator", true); return tok }},
		{"moderator key", func(*testing.T, target) string { return fx.key }},
		{"moderator of another site", func(t *testing.T, _ target) string {
			tok, _ := fx.signIn(t, "other", fx.hostToken(t, fx.otherSecret, "m", "Other moderator", true))
			return tok
		}},
		{"another site's moderator key", func(*testing.T, target) string { return fx.otherKey }},
		{"forged token", func(t *testing.T, _ target) string {
			return sign(t, "not the secret", jwt.MapClaims{"sub": "x", "name": "Mallory", "moderator": true, "aud": "blog",
				"exp": fx.clock.now().Add(time.Hour).Unix()})
		}},
		{"expired token", func(t *testing.T, _ target) string {
			return sign(t, fx.secret, jwt.MapClaims{"sub": "x", "name": "Late", "moderator": true, "aud": "blog",
				"exp": fx.clock.now().Add(-time.Hour).Unix()})
		}},
	}

	const (
		ok     = ""
		unauth = "UNAUTHENTICATED"
		forbid = "FORBIDDEN"
		bad    = "BAD_USER_INPUT"
	)
	// refused is what every caller not allowed gets: no or bad credentials are UNAUTHENTICATED, the rest
	// FORBIDDEN; allowed maps the callers that may (or get another code) to their answer.
	answers := func(allowed map[string]string) map[string]string {
		out := map[string]string{"no token": unauth, "forged token": unauth, "expired token": unauth}
		for _, r := range roles {
			if _, set := out[r.name]; !set {
				out[r.name] = forbid
			}
		}
		for name, code := range allowed {
			out[name] = code
		}
		return out
	}
	readers := map[string]string{"reader": ok, "author": ok, "moderator": ok}
	moderators := map[string]string{"moderator": ok, "moderator key": ok}
	ownData := map[string]string{"reader": ok, "author": ok, "moderator": ok, "moderator of another site": ok}

	actions := []struct {
		name    string
		target  func(*testing.T) target
		query   string
		vars    func(tg target) map[string]any
		answers map[string]string
		read    bool // a read changes nothing even when allowed
	}{
		{"comment", newTarget, `mutation($a: ID!) { addComment(input: {articleId: $a, body: "Hello"}) { comment { id } } }`,
			func(tg target) map[string]any { return map[string]any{"a": tg.article} }, answers(readers), false},
		{"reply", newTarget, `mutation($a: ID!, $c: ID!) { addComment(input: {articleId: $a, parentId: $c, body: "Hello"}) { comment { id } } }`,
			func(tg target) map[string]any { return map[string]any{"a": tg.article, "c": tg.comment} }, answers(readers), false},
		{"edit", newTarget, `mutation($c: ID!) { editComment(input: {commentId: $c, body: "Edited"}) { comment { id } } }`,
			func(tg target) map[string]any { return map[string]any{"c": tg.comment} }, answers(map[string]string{"author": ok}), false},
		{"delete", newTarget, `mutation($c: ID!) { deleteComment(input: {commentId: $c}) { deletedCommentId } }`,
			func(tg target) map[string]any { return map[string]any{"c": tg.comment} }, answers(map[string]string{"author": ok}), false},
		{"like", newTarget, `mutation($c: ID!) { likeComment(input: {commentId: $c}) { comment { likeCount } } }`,
			func(tg target) map[string]any { return map[string]any{"c": tg.comment} }, answers(readers), false},
		{"report", newTarget, reportMutation,
			func(tg target) map[string]any { return map[string]any{"c": tg.comment, "rule": "Spam"} },
			answers(map[string]string{"reader": ok, "moderator": ok, "author": bad}), false},
		{"appeal", removed, appealMutation,
			func(tg target) map[string]any { return map[string]any{"c": tg.comment, "text": "Please look again."} },
			answers(map[string]string{"author": ok}), false},
		{"approve", reported, `mutation($c: ID!) { approveComment(input: {commentId: $c}) { comment { id } } }`,
			func(tg target) map[string]any { return map[string]any{"c": tg.comment} }, answers(moderators), false},
		{"remove", newTarget, removeMutation,
			func(tg target) map[string]any {
				return map[string]any{"c": tg.comment, "rule": "Harassment", "note": "Not here."}
			},
			answers(moderators), false},
		{"restore", removed, `mutation($c: ID!) { restoreComment(input: {commentId: $c, reason: "A mistake."}) { comment { id } } }`,
			func(tg target) map[string]any { return map[string]any{"c": tg.comment} }, answers(moderators), false},
		{"answer appeal", appealed, answerMutation,
			func(tg target) map[string]any {
				return map[string]any{"c": tg.comment, "d": "REVERSE", "reason": "Fair point."}
			},
			answers(moderators), false},
		{"lock article", freshArticle, `mutation($a: ID!) { lockArticle(input: {articleId: $a, reason: "Too heated."}) { article { locked } } }`,
			func(tg target) map[string]any { return map[string]any{"a": tg.article} }, answers(moderators), false},
		{"suspend reader", newTarget, `mutation($r: ID!) { suspendReader(input: {readerId: $r, days: 3, reason: "Repeated spam."}) { reader { id } } }`,
			func(tg target) map[string]any { return map[string]any{"r": tg.authorID} }, answers(moderators), false},
		{"read the queue", reported, `{ site(slug: "blog") { moderationQueue { totalCount } } }`,
			func(target) map[string]any { return nil }, answers(moderators), true},
		{"export my data", newTarget, `{ exportMyData { comments { id } } }`,
			func(target) map[string]any { return nil }, answers(ownData), true},
		{"delete my account", newTarget, `mutation { deleteMyAccount(input: {confirm: true}) { comments } }`,
			func(target) map[string]any { return nil }, answers(ownData), false},
	}

	for _, act := range actions {
		for _, role := range roles {
			t.Run(act.name+"/"+role.name, func(t *testing.T) {
				tg := act.target(t)
				token := role.token(t, tg)
				before := fx.snapshot(t)
				r := fx.do(t, token, act.query, act.vars(tg))
				want := act.answers[role.name]
				if got := r.code(); got != want {
					t.Fatalf("code %q, want %q (errors %+v)", got, want, r.Errors)
				}
				changed := fx.snapshot(t) != before
				switch {
				case want != ok && changed:
					t.Errorf("a refused %s changed the database", act.name)
				case want == ok && act.read && changed:
					t.Errorf("reading changed the database")
				case want == ok && !act.read && !changed:
					t.Errorf("an allowed %s changed nothing", act.name)
				}
			})
		}
	}
}
