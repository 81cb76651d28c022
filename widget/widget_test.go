package widget

import (
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"golang.org/x/net/html"
)

func TestRelativeTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ago  time.Duration
		at   time.Time
		want string
	}{
		{ago: 10 * time.Second, want: "just now"},
		{ago: time.Minute, want: "1 minute ago"},
		{ago: 59 * time.Minute, want: "59 minutes ago"},
		{ago: 2 * time.Hour, want: "2 hours ago"},
		{ago: 24 * time.Hour, want: "1 day ago"},
		{ago: 29 * 24 * time.Hour, want: "29 days ago"},
		{at: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), want: "4 March"},
		{at: time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC), want: "4 March 2021"},
	} {
		at := tc.at
		if at.IsZero() {
			at = now.Add(-tc.ago)
		}
		if got := relativeTime(at, now); got != tc.want {
			t.Errorf("%v before: %q, want %q", now.Sub(at), got, tc.want)
		}
	}
}

func TestDecodeThread(t *testing.T) {
	ok := `{"data":{"article":{"id":"QXJ0aWNsZTox","title":"T","commentCount":3,"comments":{"totalCount":2,
	  "pageInfo":{"hasNextPage":true,"endCursor":"c"},"nodes":[
	    {"id":"a","bodyHTML":"<p>x</p>","createdAt":"2026-11-25T10:00:00.000Z","editedAt":null,"status":"PUBLISHED",
	     "depth":0,"likeCount":2,"replyCount":1,"author":{"displayName":"Ann"},
	     "replies":{"totalCount":1,"pageInfo":{"hasNextPage":false,"endCursor":"r"},"nodes":[
	       {"id":"b","bodyHTML":"","createdAt":"2026-11-25T10:01:00.000Z","editedAt":"2026-11-25T10:02:00.000Z",
	        "status":"DELETED","depth":1,"likeCount":0,"replyCount":0,"author":null}]}}]}}}}`
	th, err := DecodeThread([]byte(ok), "demo", "k")
	if err != nil {
		t.Fatal(err)
	}
	c := th.Comments.Items[0]
	if th.ArticleID != "QXJ0aWNsZTox" || !th.Comments.HasNext || c.Author != "Ann" || c.LikeCount != 2 || len(c.Replies.Items) != 1 {
		t.Errorf("decoded %+v", th)
	}
	if r := c.Replies.Items[0]; !r.Deleted || !r.Edited || r.Author != "" || r.Depth != 1 {
		t.Errorf("reply %+v", r)
	}
	for name, body := range map[string]string{
		"not JSON":       `<html>`,
		"GraphQL error":  `{"errors":[{"message":"boom"}],"data":null}`,
		"no such thread": `{"data":{"article":null}}`,
	} {
		if _, err := DecodeThread([]byte(body), "demo", "k"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestThreadViewRenders renders the component as the WebAssembly does, from a thread: comments in order, nested
// replies, anonymous and deleted authors, the rendered bodies.
func TestThreadViewRenders(t *testing.T) {
	e := app.NewTestEngine()
	at := time.Now().Add(-3 * time.Hour)
	v := &ThreadView{client: true, thread: &Thread{CommentCount: 6, Comments: Page{Total: 4, HasNext: true, Items: []Comment{
		{ID: "a", Author: "Ann", BodyHTML: "<p>first</p>", CreatedAt: at, LikeCount: 1,
			Replies: &Page{Total: 1, Items: []Comment{{ID: "b", Deleted: true, CreatedAt: at, Depth: 1}}}},
		{ID: "d", Author: "Dee", BodyHTML: "<p>deep</p>", CreatedAt: at, Depth: 3, Replies: &Page{Total: 1, Items: []Comment{
			{ID: "e", Author: "Eve", BodyHTML: "<p>deeper</p>", CreatedAt: at, Depth: 4}}}},
		{ID: "c", BodyHTML: "<p>second</p>", CreatedAt: at},
	}}}}
	if err := e.Load(v); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	html := app.HTMLString(v)
	for _, want := range []string{
		`data-source="client"`, "6 comments", "replying to", "<bdi>Dee</bdi>", `id="comment-a"`, "Ann", "<p>first</p>", "3 hours ago",
		`id="comment-b"`, "Deleted", "deleted by its author", `id="comment-c"`, "Anonymous", "1 more comment",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered HTML lacks %q", want)
		}
	}
	if strings.Contains(html, seedID) {
		t.Error("the client rendered the seed, which only the server writes")
	}
}

// TestOnlyHTTPPageURLsBecomeLinks: a comment's "Link", on the server and in the WebAssembly, exists only for an
// http(s) page address (the url parameter of the thread page), and goes to the comment there. (The browser
// tests check the rendered links; go-app's test engine prerenders, and so cannot be given a url.)
func TestOnlyHTTPPageURLsBecomeLinks(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://news.example/post", "https://news.example/post#comment-a"},
		{"HTTP://news.example/?q=%22", "HTTP://news.example/?q=%22#comment-a"},
		{"javascript:alert(1)", ""},
		{"JaVaScRiPt:alert(1)", ""},
		{" javascript:alert(1)", ""},
		{"java\tscript:alert(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
		{"vbscript:msgbox(1)", ""},
		{"//evil.example/", ""},
		{"/relative", ""},
		{"https://", ""},
		{"", ""},
	} {
		if got := permalink(tc.url, "a"); got != tc.want {
			t.Errorf("permalink(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// TestPermalinksUseTheStoredURL: a comment's Link goes to the article's stored URL whatever the thread page's
// url parameter says; with no stored URL, only a url the embedding page vouched for (pageURL, set in the
// browser by framedBy) makes Links, and the prerender, which has none, draws no Link at all.
func TestPermalinksUseTheStoredURL(t *testing.T) {
	at := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		name, stored, pageURL string
		want                  string // every Link's address but the comment's ID; "" for no Link
	}{
		{"stored URL, hostile parameter", "https://news.example/story", "https://evil.example/phish", "https://news.example/story#comment-"},
		{"stored URL, no parameter", "https://news.example/story", "", "https://news.example/story#comment-"},
		{"no stored URL, the embedding page's", "", "https://news.example/other", "https://news.example/other#comment-"},
		{"no stored URL, nothing vouched for", "", "", ""},
		{"stored URL not linkable", "javascript:alert(1)", "https://evil.example/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := app.NewTestEngine()
			v := &ThreadView{client: true, pageURL: tc.pageURL, thread: &Thread{URL: tc.stored, CommentCount: 2, Comments: Page{Total: 2, Items: []Comment{
				{ID: "a", Author: "Ann", BodyHTML: "<p>one</p>", CreatedAt: at,
					Replies: &Page{Total: 1, Items: []Comment{{ID: "b", Author: "Bo", BodyHTML: "<p>two</p>", CreatedAt: at, Depth: 1}}}},
			}}}}
			if err := e.Load(v); err != nil {
				t.Fatal(err)
			}
			e.ConsumeAll()
			html := app.HTMLString(v)
			links := strings.Count(html, `class="tl-act tl-link"`)
			if tc.want == "" {
				if links != 0 {
					t.Errorf("%d Links drawn, want none: %s", links, html)
				}
				return
			}
			if links != 2 || strings.Count(html, `href="`+tc.want) != 2 {
				t.Errorf("%d Links drawn, want 2 to %q", links, tc.want)
			}
			if strings.Contains(html, "evil.example") {
				t.Error("a Link goes to the url parameter's site")
			}
		})
	}
}

// TestReadersTextIsIsolated renders a thread whose names and bodies carry right-to-left text and directional
// overrides left open, as the server prerenders it and as the WebAssembly draws it for a signed-in reader, and
// parses the HTML: every name is in an element of its own with dir="auto" (a <span class="tl-author"> or a
// <bdi>), and every body's container has dir="auto", so that none can reorder the text around it.
func TestReadersTextIsIsolated(t *testing.T) {
	const (
		spoof = "Admin\u202E (moderator)" // an override left open: "(moderator)" would read as part of the name
		rtl   = "מנהל האתר"
		embed = "x\u202B\u2067y" // an embedding and an isolate left open
	)
	at := time.Now().Add(-time.Hour)
	// A chain deep enough for "replying to NAME".
	deep := &Comment{ID: "d4", Author: embed, BodyHTML: "<p>\u2067deepest</p>", CreatedAt: at, Depth: 4}
	chain := *deep
	for depth := 3; depth >= 1; depth-- {
		chain = Comment{ID: "d" + itoa(depth), Author: []string{spoof, rtl, embed}[depth%3], BodyHTML: "<p>\u202Eold</p>", CreatedAt: at,
			Depth: depth, Replies: &Page{Total: 1, Items: []Comment{chain}}}
	}
	thread := func() *Thread {
		return &Thread{CommentCount: 6, Comments: Page{Total: 2, Items: []Comment{
			{ID: "a", Author: spoof, BodyHTML: "<p>\u202Eevil</p>", CreatedAt: at, Replies: &Page{Total: 1, Items: []Comment{chain}}},
			{ID: "b", Author: rtl, BodyHTML: "<p>שלום</p>", CreatedAt: at},
		}}}
	}
	for _, tc := range []struct {
		name string
		view *ThreadView
		// names, bodies and <bdi> expected: six comments; "replying to"; signed in, "Commenting as" in each
		// composer, "Reply to" and "Signed in as"; for a moderator, the appeal in the queue, and the note and the
		// answer on the reader's own removed comment.
		names, bodies, isolates int
	}{
		{"prerendered", &ThreadView{thread: thread()}, 6, 6, 1},
		{"signed in, in the browser", &ThreadView{client: true, token: "t", name: spoof, thread: thread(),
			compose: "reply:a", mod: modState{mine: map[string]*ownModeration{}}}, 6, 6, 5},
		{"moderation panels", &ThreadView{client: true, token: "t", name: rtl, thread: thread(), mod: modState{
			canModerate: true,
			queue: []queueItem{{ID: "q", Author: spoof, BodyHTML: "<p>\u202Eq</p>", Status: "REMOVED", Rule: "Spam",
				Appeal: &appealView{Text: spoof, Status: "OPEN"}}},
			mine: map[string]*ownModeration{"m": {Status: "REMOVED", Rule: "Spam", Note: spoof, BodyHTML: "<p>\u202Em</p>",
				Appeal: &appealView{Text: rtl, Status: "UPHELD", Answer: embed}}},
			mineOrder: []string{"m"},
		}}, 7, 8, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := app.NewTestEngine()
			if err := e.Load(tc.view); err != nil {
				t.Fatal(err)
			}
			e.ConsumeAll()
			doc, err := html.Parse(strings.NewReader(app.HTMLString(tc.view)))
			if err != nil {
				t.Fatal(err)
			}
			names, bodies, isolates := 0, 0, 0
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				class, dir := attrOf(n, "class"), attrOf(n, "dir")
				switch {
				case strings.Contains(" "+class+" ", " tl-author "):
					names++
					if n.Data != "span" || dir != "auto" {
						t.Errorf("a name in <%s dir=%q>: %q", n.Data, dir, textOf(n))
					}
				case strings.Contains(" "+class+" ", " tl-body "):
					bodies++
					if dir != "auto" {
						t.Errorf("a body in <%s dir=%q>: %q", n.Data, dir, textOf(n))
					}
				case n.Data == "bdi":
					isolates++
				}
				// A reader's text anywhere else would be part of a sentence of the widget's, not isolated from it.
				if n.Data != "script" && attrOf(n, "id") != seedID && !isolatedNode(n) {
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						if c.Type == html.TextNode && strings.ContainsAny(c.Data, "\u202E\u202B\u2067מ") {
							t.Errorf("a reader's text in <%s class=%q> is not isolated: %q", n.Data, class, c.Data)
						}
					}
				}
			}
			if names != tc.names || bodies != tc.bodies || isolates != tc.isolates {
				t.Errorf("%d names, %d bodies, %d <bdi>; want %d, %d, %d", names, bodies, isolates, tc.names, tc.bodies, tc.isolates)
			}
		})
	}
}

// isolatedNode reports whether n or an element around it isolates its text: a <bdi> or dir="auto".
func isolatedNode(n *html.Node) bool {
	for ; n != nil; n = n.Parent {
		if n.Type == html.ElementNode && (n.Data == "bdi" || attrOf(n, "dir") == "auto") {
			return true
		}
	}
	return false
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
