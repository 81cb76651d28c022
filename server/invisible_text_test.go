package server_test

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/threadline/threadline/thread"
)

// emptyLooking are texts with nothing a reader can see, one per class of invisible character: white space of
// every width, zero-width and other format characters, the bidirectional controls, fillers that are letters
// drawing nothing, variation selectors and tags, combining marks with no base, and mixtures.
var emptyLooking = map[string]string{
	"spaces of every width":     " \u00A0\u2003\u3000\u205F\u1680 ",
	"zero-width space":          "\u200B",
	"zero-width joiners":        "\u200B\u200C\u200D",
	"byte order mark":           "\uFEFF\uFEFF",
	"word joiner and invisible": "\u2060\u2061\u2062\u2063\u2064",
	"mongolian vowel separator": "\u180E",
	"hangul filler":             "\u3164",
	"hangul jamo fillers":       "\u115F\u1160",
	"halfwidth hangul filler":   "\uFFA0",
	"soft hyphen":               "\u00AD\u00AD",
	"variation selectors":       "\uFE0F\uFE0E\U000E0100",
	"tags":                      "\U000E0041\U000E0064\U000E006D",
	"combining marks, no base":  "\u0301\u0302\u20DD",
	"grapheme joiner":           "\u034F",
	"khmer inherent vowels":     "\u17B4\u17B5",
	"bidi controls":             "\u202E\u2066\u2069\u202A\u200E\u200F\u061C",
	"braille blank":             "\u2800\u2800",
	"mixture":                   "\u200B \u3164 \u0301\u202E\u00AD\uFEFF",
}

// emptyRendered are bodies with visible characters in their source that render as nothing.
var emptyRendered = map[string]string{
	"a character reference":    "&#8203;&#x200B;&zwnj;",
	"a link with no text":      "[](https://example.com)",
	"an empty list item":       "1.",
	"a rule":                   "---",
	"emphasis of nothing":      "**\u200B**",
	"a quote of nothing":       "> \u200B",
	"code of a zero-width one": "`\u200B`",
}

// TestInvisibleNamesAreRefusedEverywhere sends names with nothing visible through every way a name enters:
// a new reader, a site's sign-in token (first sign-in and a rename), and a site's token used directly. Each
// is refused, and no reader is created or renamed.
func TestInvisibleNamesAreRefusedEverywhere(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	_, readerID := fx.user(t, "Ada", false)
	before := fx.snapshot(t)
	for name, text := range emptyLooking {
		t.Run(name, func(t *testing.T) {
			if r := fx.do(t, "", `mutation($n: String!) { createReader(input: {site: "demo", displayName: $n}) { token } }`,
				map[string]any{"n": text}); r.code() != string(thread.CodeInvalid) {
				t.Errorf("createReader: %+v", r.Errors)
			}
			fx.n++
			host := fx.hostToken(t, fx.secret, "user-new", text, false)
			if r := fx.do(t, "", `mutation($t: String!) { signIn(input: {site: "blog", token: $t}) { token } }`,
				map[string]any{"t": host}); r.code() != string(thread.CodeInvalid) {
				t.Errorf("signIn: %+v", r.Errors)
			}
			rename := fx.hostToken(t, fx.secret, "user-1", text, false) // Ada's subject
			if r := fx.do(t, "", `mutation($t: String!) { signIn(input: {site: "blog", token: $t}) { token } }`,
				map[string]any{"t": rename}); r.code() != string(thread.CodeInvalid) {
				t.Errorf("signIn renaming: %+v", r.Errors)
			}
			direct := sign(t, fx.secret, jwt.MapClaims{"sub": "user-direct", "name": text, "aud": "blog", "exp": fx.clock.now().Unix() + 3600})
			if r := fx.do(t, direct, `mutation($a: ID!) { addComment(input: {articleId: $a, body: "hello"}) { comment { id } } }`,
				map[string]any{"a": fx.article}); r.code() != string(thread.CodeUnauthenticated) {
				t.Errorf("a site's token used directly: %+v", r.Errors)
			}
		})
	}
	if after := fx.snapshot(t); after != before {
		t.Errorf("refused names changed the database:\n%s\n%s", before, after)
	}
	var name string
	fx.mustDo(t, fx.key, `query($r: ID!) { node(id: $r) { ... on Reader { displayName } } }`, map[string]any{"r": readerID}, &struct {
		Node *struct{ DisplayName *string }
	}{Node: &struct{ DisplayName *string }{DisplayName: &name}})
	if name != "Ada" {
		t.Errorf("Ada is now %q", name)
	}
}

// TestNamesAreCleaned: names keep what readers see and lose what could reorder the text around them or make
// two names look alike; text real names need (joiners in Persian and emoji, right-to-left letters) stays.
func TestNamesAreCleaned(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	for _, tc := range []struct{ in, want string }{
		{"Admin\u202E\u2066 (moderator)", "Admin (moderator)"},
		{"\u202Enimda\u202C", "nimda"},
		{"\u2067Ada\u2069 \u2066Bo\u2069", "Ada Bo"},
		{"Ad\u200Bmin", "Admin"},
		{"Ad\u00ADmin\uFEFF", "Admin"},
		{"\u200E\u200FSam\u061C", "Sam"},
		{"A\u3164\u3164B", "AB"},
		{"\u0301Ann", "Ann"},
		{"Ren\u0065\u0301e", "Renée"}, // NFC
		{"Z" + strings.Repeat("\u0336", 40), "Z\u0336\u0336\u0336\u0336"},
		{"Sam\U000E0041\U000E0042", "Sam"},
		{"\u200DJo\u200D", "Jo"},
		{"Dev \U0001F469\u200D\U0001F4BB", "Dev \U0001F469\u200D\U0001F4BB"},
		{"\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645"},
		{"\u05D3\u05E0\u05D4 Dana", "\u05D3\u05E0\u05D4 Dana"},
		{"\u2764\uFE0F Lu", "\u2764\uFE0F Lu"},
		{"Lu\uFE0F", "Lu"},
	} {
		var created struct {
			CreateReader struct{ Reader struct{ DisplayName string } }
		}
		fx.mustDo(t, "", `mutation($n: String!) { createReader(input: {site: "demo", displayName: $n}) { reader { displayName } } }`,
			map[string]any{"n": tc.in}, &created)
		if got := created.CreateReader.Reader.DisplayName; got != tc.want {
			t.Errorf("createReader %+q: %+q, want %+q", tc.in, got, tc.want)
		}
		fx.n++
		var signed struct {
			SignIn struct{ Reader struct{ DisplayName string } }
		}
		fx.mustDo(t, "", `mutation($t: String!) { signIn(input: {site: "blog", token: $t}) { reader { displayName } } }`,
			map[string]any{"t": fx.hostToken(t, fx.secret, "renamed", tc.in, false)}, &signed) // one subject: renamed each time
		if got := signed.SignIn.Reader.DisplayName; got != tc.want {
			t.Errorf("signIn %+q: %+q, want %+q", tc.in, got, tc.want)
		}
	}
}

// TestInvisibleTextIsRefusedEverywhere sends bodies, reasons and appeals with nothing visible (in their source,
// or once rendered) through every mutation that takes one: each is refused; an optional note with nothing
// visible is stored as no note.
func TestInvisibleTextIsRefusedEverywhere(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, authorID := fx.user(t, "Ada", false)
	comment := fx.addComment(t, author, fx.article, "", "A comment.")
	removed := fx.addComment(t, author, fx.article, "", "Another comment.")
	fx.mutate(t, fx.key, removeMutation, map[string]any{"c": removed, "rule": "Spam", "note": "Off."})
	texts := map[string]string{}
	for k, v := range emptyLooking {
		texts[k] = v
	}
	for k, v := range emptyRendered {
		texts["rendered: "+k] = v
	}
	before := fx.snapshot(t)
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			type mutation struct {
				what, token, query string
				vars               map[string]any
			}
			bodies := []mutation{
				{"addComment", author, `mutation($a: ID!, $b: String!) { addComment(input: {articleId: $a, body: $b}) { comment { id } } }`, map[string]any{"a": fx.article, "b": text}},
				{"a reply", author, `mutation($a: ID!, $p: ID, $b: String!) { addComment(input: {articleId: $a, parentId: $p, body: $b}) { comment { id } } }`, map[string]any{"a": fx.article, "p": comment, "b": text}},
				{"editComment", author, `mutation($c: ID!, $b: String!) { editComment(input: {commentId: $c, body: $b}) { comment { id } } }`, map[string]any{"c": comment, "b": text}},
			}
			// Reasons and appeals are plain text, shown as written: only what is invisible as written is nothing.
			plain := []mutation{
				{"appealModeration", author, appealMutation, map[string]any{"c": removed, "text": text}},
				{"restoreComment", fx.key, `mutation($c: ID!, $r: String!) { restoreComment(input: {commentId: $c, reason: $r}) { comment { id } } }`, map[string]any{"c": removed, "r": text}},
				{"lockArticle", fx.key, `mutation($a: ID!, $r: String!) { lockArticle(input: {articleId: $a, reason: $r}) { article { id } } }`, map[string]any{"a": fx.article, "r": text}},
				{"suspendReader", fx.key, `mutation($u: ID!, $r: String!) { suspendReader(input: {readerId: $u, days: 1, reason: $r}) { reader { id } } }`, map[string]any{"u": authorID, "r": text}},
			}
			if strings.HasPrefix(name, "rendered: ") {
				plain = nil
			}
			for _, tc := range append(bodies, plain...) {
				if r := fx.do(t, tc.token, tc.query, tc.vars); r.code() != string(thread.CodeInvalid) {
					t.Errorf("%s: %+v", tc.what, r.Errors)
				}
			}
		})
	}
	if after := fx.snapshot(t); after != before {
		t.Errorf("refused text changed the database:\n%s\n%s", before, after)
	}

	// An appeal answered with a reason of nothing is refused; a removal's optional note of nothing is no note.
	fx.mutate(t, author, appealMutation, map[string]any{"c": removed, "text": "It was not spam."})
	if r := fx.do(t, fx.key, answerMutation, map[string]any{"c": removed, "d": "UPHELD", "reason": "\u200B\u3164"}); r.code() != string(thread.CodeInvalid) {
		t.Errorf("answerAppeal: %+v", r.Errors)
	}
	fx.mutate(t, fx.key, removeMutation, map[string]any{"c": comment, "rule": "Spam", "note": "\u200B\u202E\u3164"})
	_, id := splitID(t, comment)
	var note string
	if err := fx.DB.Raw(t).QueryRow("SELECT note FROM comments WHERE id = $1", id).Scan(&note); err != nil || note != "" {
		t.Errorf("the note of nothing is stored as %+q (%v)", note, err)
	}
}
