package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"golang.org/x/net/html"

	"github.com/threadline/threadline/internal/hostile"
	"github.com/threadline/threadline/linkurl"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
	"github.com/threadline/threadline/widget"
)

// hostileThread is a thread made from the outside in: its article created by a first embed with the given title
// and url, and one comment per body by a reader per name, both through the GraphQL API.
type hostileThread struct {
	key, title, url string
	names, bodies   []string
}

// hostilePage is what the thread page of a hostileThread shows, with what the database holds of it.
type hostilePage struct {
	doc      *html.Node
	policy   string // its Content-Security-Policy
	article  *thread.Article
	urlParam string
	authors  []string // the display names as stored
	bodies   []string // the rendered bodies as stored
}

// load creates th on the demo site through the first embed and the service, and returns its page.
func (th hostileThread) load(t *testing.T, s *testServer) *hostilePage {
	t.Helper()
	ctx := context.Background()
	q := url.Values{"site": {"demo"}, "article": {th.key}, "title": {th.title}, "url": {th.url}}
	if resp, _ := get(t, s.URL+"/embed/thread?"+q.Encode(), nil); resp.status != http.StatusOK {
		t.Fatalf("first embed of %q: status %d", th.key, resp.status)
	}
	a, err := s.Svc.Article(ctx, "demo", strings.TrimSpace(th.key))
	if err != nil {
		t.Fatalf("the first embed of %q made no article: %v", th.key, err)
	}
	p := &hostilePage{article: a, urlParam: th.url}
	// Readers and comments come through the public API, as a script would send them.
	var art struct{ Article struct{ ID string } }
	s.mustDo(t, "", `query($k: String!) { article(site: "demo", key: $k) { id } }`, map[string]any{"k": a.Key}, &art)
	for i, body := range th.bodies {
		var reader struct {
			CreateReader struct {
				Token  string
				Reader struct{ DisplayName string }
			}
		}
		vars := map[string]any{"name": th.names[i%len(th.names)]}
		const create = `mutation($name: String!) { createReader(input: {site: "demo", displayName: $name}) { token reader { displayName } } }`
		if r := s.do(t, "", create, vars); len(r.Errors) > 0 { // a name the API refuses is safe too; post under another
			s.mustDo(t, "", create, map[string]any{"name": fmt.Sprintf("Stand-in %d", i)}, &reader)
		} else if err := json.Unmarshal(r.Data, &reader); err != nil {
			t.Fatal(err)
		}
		var comment struct {
			AddComment struct{ Comment struct{ BodyHTML string } }
		}
		s.mustDo(t, reader.CreateReader.Token, `mutation($a: ID!, $b: String!) { addComment(input: {articleId: $a, body: $b}) { comment { bodyHTML } } }`,
			map[string]any{"a": art.Article.ID, "b": body}, &comment)
		p.authors = append(p.authors, reader.CreateReader.Reader.DisplayName)
		p.bodies = append(p.bodies, comment.AddComment.Comment.BodyHTML)
	}
	resp, page := get(t, s.URL+"/embed/thread?"+q.Encode(), nil)
	p.policy = resp.header.Get("Content-Security-Policy")
	if p.doc, err = html.Parse(strings.NewReader(page)); err != nil {
		t.Fatal(err)
	}
	return p
}

// markup is the set of elements and attributes a page uses: "tag" and "tag attr".
type markup map[string]bool

func (m markup) add(doc *html.Node) markup {
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode {
			m[n.Data] = true
			for _, a := range n.Attr {
				m[n.Data+" "+a.Key] = true
			}
		}
	}
	return m
}

// commentMarkup is what a comment's rendered body may add to the page (see package markdown).
var commentMarkup = markup{"p": true, "br": true, "strong": true, "em": true, "del": true, "code": true, "pre": true,
	"blockquote": true, "ul": true, "ol": true, "li": true, "hr": true, "a": true,
	"a href": true, "a rel": true, "a title": true, "ol start": true, "code class": true}

// TestThreadPageWithHostileValues pushes hostile titles, keys, page URLs, display names and comment bodies
// through the first embed and the API, and parses the thread page as a browser does: it has no element or
// attribute that a plain thread's page has not, no script but Threadline's own files, no link but to http(s),
// and every value shows exactly as it was stored.
func TestThreadPageWithHostileValues(t *testing.T) {
	s := newTestServer(t)
	plain := hostileThread{key: "plain", title: "A plain title", url: "https://news.example/plain",
		names: []string{"Plain Name"}, bodies: []string{"A plain comment with [a link](https://ok.example/)."}}.load(t, s)
	allowed := markup{}.add(plain.doc)
	for k := range commentMarkup {
		allowed[k] = true
	}
	checkHostilePage(t, plain, allowed)

	var cases []hostileThread
	for i, v := range hostile.Text {
		key := strings.Map(func(r rune) rune { // a key of several lines is refused (thread's tests say so)
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, fmt.Sprintf("t%d %s", i, v))
		cases = append(cases, hostileThread{key: key, title: v, url: "https://news.example/?q=" + v,
			names: []string{v}, bodies: []string{v}})
	}
	for i, u := range hostile.URLs {
		cases = append(cases, hostileThread{key: fmt.Sprintf("u%d", i), title: u, url: u, names: []string{u}, bodies: []string{u}})
	}
	cases = append(cases, hostileThread{key: "bodies", title: "Bodies", url: "https://news.example/bodies",
		names: hostile.Text, bodies: hostile.Bodies})
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%.40q", tc.key), func(t *testing.T) {
			checkHostilePage(t, tc.load(t, s), allowed)
		})
	}
}

func checkHostilePage(t *testing.T, p *hostilePage, allowed markup) {
	t.Helper()
	var seed, title string
	var authors, links []string
	ogTitle := "(none)"
	for n := range p.doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if !allowed[n.Data] {
			t.Errorf("a <%s> element appeared", n.Data)
		}
		for _, a := range n.Attr {
			if !allowed[n.Data+" "+a.Key] || strings.HasPrefix(a.Key, "on") {
				t.Errorf("a %s attribute appeared on <%s>: %q", a.Key, n.Data, a.Val)
			}
		}
		switch {
		case n.Data == "script":
			// Threadline's files, or its one inline script, allowed by its hash.
			sum := sha256.Sum256([]byte(text(n)))
			hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
			if src := attr(n, "src"); src != "" && (!strings.HasPrefix(src, "/embed/") || n.FirstChild != nil) ||
				src == "" && !strings.Contains(scriptSrc(p.policy), hash) {
				t.Errorf("a script that is not Threadline's: src %q, text %q", src, text(n))
			}
		case n.Data == "a" && hasAttr(n, "href"):
			if href := attr(n, "href"); !linkurl.Allowed(href) {
				t.Errorf("a link to %q", href)
			}
			if strings.Contains(attr(n, "class"), "tl-link") {
				links = append(links, attr(n, "href"))
			}
		case n.Data == "meta" && attr(n, "property") == "og:title":
			ogTitle = attr(n, "content")
		case n.Data == "title":
			title = text(n)
		case n.Data == "span" && attr(n, "class") == "tl-author":
			authors = append(authors, text(n))
		case attr(n, "id") == "tl-seed":
			seed = text(n)
		}
	}
	if p.article.URL != "" && !linkurl.Allowed(p.article.URL) {
		t.Errorf("the article's URL was stored as %q, which Threadline would not link to", p.article.URL)
	}
	want := "Comments on " + p.article.Title
	if ogTitle != want || title != want {
		t.Errorf("og:title %q and <title> %q, want both %q", ogTitle, title, want)
	}
	slices.Sort(authors)
	wantAuthors := slices.Sorted(slices.Values(p.authors))
	if !slices.Equal(authors, wantAuthors) {
		t.Errorf("authors shown %q, want %q", authors, wantAuthors)
	}
	if linkurl.Allowed(p.urlParam) {
		if len(links) != len(p.authors) || len(links) > 0 && !strings.HasPrefix(links[0], p.urlParam+"#comment-") {
			t.Errorf("comment links %q, want one per comment to %q", links, p.urlParam)
		}
	} else if len(links) > 0 {
		t.Errorf("url %q is no link, but the page links %q", p.urlParam, links)
	}
	var th widget.Thread
	if err := json.Unmarshal([]byte(seed), &th); err != nil {
		t.Fatalf("the seed does not read back: %v in %q", err, seed)
	}
	if th.Title != p.article.Title || th.Article != p.article.Key || len(th.Comments.Items) != len(p.bodies) {
		t.Errorf("the seed has title %q, key %q, %d comments; want %q, %q, %d",
			th.Title, th.Article, len(th.Comments.Items), p.article.Title, p.article.Key, len(p.bodies))
	}
	for _, c := range th.Comments.Items {
		if !slices.Contains(p.bodies, c.BodyHTML) || !slices.Contains(p.authors, c.Author) {
			t.Errorf("the seed's comment %q by %q is not one that was posted", c.BodyHTML, c.Author)
		}
	}
}

// TestEveryAttributeOfThePageRoundTrips writes each hostile value into every attribute the thread page has, on
// the element it has it on, as the prerender writes it, and reads it back with an HTML parser: one element, one
// attribute, the value as it was.
func TestEveryAttributeOfThePageRoundTrips(t *testing.T) {
	s := newTestServer(t)
	// An article with a stored URL: only such a page's prerender has the comments' Links.
	doc := hostileThread{key: "attributes", title: "Attributes", url: "https://news.example/a",
		names: []string{"Ann"}, bodies: []string{"A comment"}}.load(t, s).doc
	used := markup{}.add(doc)
	for _, want := range []string{"meta content", "a href", "main data-source", "li data-depth", "div class", "li id",
		"time title", "button aria-pressed", "ol aria-label", "textarea id"} {
		if !used[want] {
			t.Errorf("the page has no %q: the test no longer covers it", want)
		}
	}
	values := append(append([]string{}, hostile.Text...), hostile.URLs...)
	n := 0
	for k := range used {
		tag, name, ok := strings.Cut(k, " ")
		if !ok {
			continue
		}
		for _, v := range values {
			var el app.UI
			if selfClosing[tag] {
				el = app.ElemSelfClosing(tag).Attr(name, v)
			} else {
				el = app.Elem(tag).Attr(name, v)
			}
			want := v
			if name != "value" { // go-app trims every other attribute's value
				want = strings.TrimSpace(v)
			}
			out := app.HTMLString(el)
			if err := roundTrips(out, tag, name, want); err != nil {
				t.Errorf("<%s %s=%q>: %v\nwritten as %s", tag, name, v, err, out)
			}
			n++
		}
	}
	t.Logf("%d attribute values round-tripped", n)
}

var selfClosing = map[string]bool{"meta": true, "link": true, "img": true, "input": true, "br": true, "hr": true}

// roundTrips tokenizes out as a browser does and checks that it is one tag with one attribute whose value is
// want, and nothing else but that tag's end.
func roundTrips(out, tag, name, want string) error {
	z := html.NewTokenizer(strings.NewReader(out))
	var tokens []html.Token
	for z.Next() != html.ErrorToken {
		if tok := z.Token(); tok.Type != html.TextToken || strings.TrimSpace(tok.Data) != "" {
			tokens = append(tokens, tok)
		}
	}
	if len(tokens) == 0 || tokens[0].Data != tag || tokens[0].Type != html.StartTagToken && tokens[0].Type != html.SelfClosingTagToken {
		return fmt.Errorf("tokens %v", tokens)
	}
	if a := tokens[0].Attr; len(a) != 1 || a[0].Key != name || a[0].Val != want {
		return fmt.Errorf("attributes %q", a)
	}
	for _, tok := range tokens[1:] {
		if tok.Type != html.EndTagToken || tok.Data != tag {
			return fmt.Errorf("then %v", tok)
		}
	}
	return nil
}

// scriptSrc is the script-src directive of a Content-Security-Policy.
func scriptSrc(policy string) string {
	for d := range strings.SplitSeq(policy, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src ") {
			return d
		}
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

// text is the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// TestThreadPagePolicy: the thread page's Content-Security-Policy runs no script but Threadline's own, even if
// markup were ever injected into the page.
func TestThreadPagePolicy(t *testing.T) {
	s := newTestServer(t)
	resp, _ := get(t, s.URL+"/embed/thread?site=demo&article=social-credit", nil)
	policy := resp.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "base-uri 'none'", "form-action 'none'", "connect-src 'self'", "frame-ancestors "} {
		if !strings.Contains(policy, want) {
			t.Errorf("the policy lacks %q: %s", want, policy)
		}
	}
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "data:", "*;", "http:", "https:"} {
		if strings.Contains(scriptSrc(policy), bad) {
			t.Errorf("script-src allows %s: %s", bad, policy)
		}
	}
	if !strings.Contains(scriptSrc(policy), "'wasm-unsafe-eval'") {
		t.Errorf("script-src does not let the WebAssembly compile: %s", policy)
	}
}

// TestDemoPageWithHostileValues serves the demo publisher's page for articles with hostile titles and keys, with
// hostile query parameters and Host headers: the page has only its own markup, loads only embed.js, and its
// policy allows its one style sheet by hash and nothing inline.
func TestDemoPageWithHostileValues(t *testing.T) {
	s := newTestServer(t)
	for i, v := range hostile.Text {
		key := fmt.Sprintf("demo-%d", i)
		q := url.Values{"site": {"demo"}, "article": {key}, "title": {v}}
		get(t, s.URL+"/embed/thread?"+q.Encode(), nil)
		demo := httptest.NewServer(server.DemoPage(s.Svc, slog.New(slog.DiscardHandler), "demo", key, "8080"))
		for _, host := range []string{"", "evil;script-src*", "x'(a)&b=c:8081"} { // characters Go lets through in a Host
			req, _ := http.NewRequest(http.MethodGet, demo.URL+"/?as="+url.QueryEscape(v), nil)
			if host != "" {
				req.Host = host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("Host %q: status %d", host, resp.StatusCode)
			}
			policy := resp.Header.Get("Content-Security-Policy")
			if !strings.HasPrefix(policy, "default-src 'none'; script-src http://") || strings.Contains(policy, "unsafe") ||
				strings.Count(policy, "script-src") != 1 || strings.ContainsAny(host, ";'") && !strings.Contains(policy, "http://localhost:8080/embed.js") {
				t.Errorf("%q, Host %q: policy %q", v, host, policy)
			}
			var h1 string
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") {
						t.Errorf("%q, Host %q: a %s attribute on <%s>", v, host, a.Key, n.Data)
					}
				}
				switch n.Data {
				case "script":
					if src := attr(n, "src"); !strings.HasPrefix(src, "http://") || !strings.HasSuffix(src, "/embed.js") || n.FirstChild != nil {
						t.Errorf("%q, Host %q: a script %q %q", v, host, src, text(n))
					}
				case "style":
					sum := sha256.Sum256([]byte(text(n)))
					if !strings.Contains(policy, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
						t.Errorf("the policy %q does not allow the page's style sheet", policy)
					}
				case "h1":
					h1 = text(n)
				case "iframe", "img", "svg", "base", "object", "embed", "link", "form", "input":
					t.Errorf("%q, Host %q: a <%s> appeared", v, host, n.Data)
				}
			}
			a, _ := s.Svc.Article(context.Background(), "demo", key)
			if h1 != a.Title {
				t.Errorf("the page's heading is %q, want %q", h1, a.Title)
			}
		}
		demo.Close()
	}
}
