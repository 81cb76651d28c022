package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
	"github.com/threadline/threadline/widget"
)

// get fetches url with GET and returns the response with its body as text.
func get(t *testing.T, url string, header map[string]string) (*httpResult, string) {
	t.Helper()
	r := fetch(t, http.MethodGet, url, header, nil)
	return r, string(r.body)
}

// TestThreadPageIsPrerendered checks the first HTML response of the thread page: the comments are in it as
// markup, readable without JavaScript, with the JSON the WebAssembly starts from.
func TestThreadPageIsPrerendered(t *testing.T) {
	s := newTestServer(t)
	resp, page := get(t, s.URL+"/embed/thread?site=demo&article=social-credit", nil)
	if resp.status != http.StatusOK || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, content type %q", resp.status, resp.header.Get("Content-Type"))
	}
	if got := resp.header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors") {
		t.Errorf("Content-Security-Policy %q does not say who may frame the page", got)
	}
	text := html.UnescapeString(page)
	for _, want := range []string{
		`data-source="prerender"`,
		`<h1 class="tl-count">45 comments</h1>`,
		"Lianne Abrahams",
		"ИОСИФ Joseph Секейра Мендес Sequeira Mendes",
		"Creeeeepy",
		"<title>Comments on Social Credit: China's Digital Dystopia In The Making</title>",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The first page: 20 of the sample's 45 top-level comments, and the way to the rest.
	if n := strings.Count(page, `class="tl-comment"`); n != 20 {
		t.Errorf("%d comments as markup, want the first page of 20", n)
	}
	if !strings.Contains(page, "Show 25 more comments") {
		t.Error("the page does not offer the 25 comments after the first page")
	}
	// Every script the page loads comes from Threadline itself.
	for _, m := range regexp.MustCompile(`<script[^>]*src="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "/embed/") {
			t.Errorf("the page loads a script from %q", m[1])
		}
	}
	seedJSON := regexp.MustCompile(`(?s)<div[^>]*id="tl-seed"[^>]*>(.*?)</div>`).FindStringSubmatch(page)
	if seedJSON == nil {
		t.Fatal("the page carries no seed for the WebAssembly")
	}
	var th widget.Thread
	if err := json.Unmarshal([]byte(html.UnescapeString(seedJSON[1])), &th); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if th.CommentCount != 45 || len(th.Comments.Items) != 20 || th.Comments.Items[2].Author != "Lianne Abrahams" || !th.Comments.HasNext {
		t.Errorf("seed: %d comments, %d items", th.CommentCount, len(th.Comments.Items))
	}
}

// TestFrameAncestors checks who may embed a site's threads: the demo anyone, another site only its origins.
func TestFrameAncestors(t *testing.T) {
	s := newTestServer(t)
	blog := &thread.Site{Slug: "blog", Name: "Blog", FrameAncestors: []string{"https://blog.example", "bad; script-src *"}}
	if err := s.DB.CreateSite(context.Background(), blog); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ site, want string }{
		{"demo", "frame-ancestors *"},
		{"blog", "frame-ancestors https://blog.example"},
		{"nowhere", "frame-ancestors 'none'"},
	} {
		resp, _ := get(t, s.URL+"/embed/thread?article=x&site="+tc.site, nil)
		if got := resp.header.Get("Content-Security-Policy"); !strings.HasSuffix(got, "; "+tc.want) || strings.Count(got, "frame-ancestors") != 1 {
			t.Errorf("%s: %q, want %q", tc.site, got, tc.want)
		}
	}
}

func TestThreadPageErrors(t *testing.T) {
	s := newTestServer(t)
	for _, tc := range []struct{ query, want string }{
		{"site=demo", "The comments could not be loaded."},
		{"site=nowhere&article=social-credit", "The comments could not be loaded."},
		{"", "The comments could not be loaded."},
	} {
		_, page := get(t, s.URL+"/embed/thread?"+tc.query, nil)
		if !strings.Contains(page, tc.want) || strings.Contains(page, `class="tl-comment"`) {
			t.Errorf("%q: the page does not say %q", tc.query, tc.want)
		}
	}
}

func TestEmbedScript(t *testing.T) {
	s := newTestServer(t)
	resp, js := get(t, s.URL+"/embed.js", nil)
	if resp.status != http.StatusOK || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("status %d, content type %q", resp.status, resp.header.Get("Content-Type"))
	}
	if len(js) > 4096 {
		t.Errorf("embed.js is %d bytes; it should stay a few KB", len(js))
	}
	for _, want := range []string{"e.origin !== origin", "e.source !== frame.contentWindow", "/embed/thread?", "threadline:resize"} {
		if !strings.Contains(js, want) {
			t.Errorf("embed.js lacks %q", want)
		}
	}
	again, _ := get(t, s.URL+"/embed.js", map[string]string{"If-None-Match": resp.header.Get("ETag")})
	if again.status != http.StatusNotModified {
		t.Errorf("revalidation answered %d, want 304", again.status)
	}
}

// TestWidgetAssets checks the assets the page links to: content-hashed URLs cached for a year, the WebAssembly
// precompressed. `make test` builds the WebAssembly before the tests.
func TestWidgetAssets(t *testing.T) {
	s := newTestServer(t)
	_, page := get(t, s.URL+"/embed/thread?site=demo&article=social-credit", nil)
	css := regexp.MustCompile(`href="(/embed/web/thread\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatal("the page links no content-hashed stylesheet")
	}
	resp, _ := get(t, s.URL+css[1], nil)
	if resp.status != http.StatusOK || resp.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("stylesheet: status %d, Cache-Control %q", resp.status, resp.header.Get("Cache-Control"))
	}
	if resp, _ := get(t, s.URL+"/embed/web/thread.000000000000.css", nil); resp.status != http.StatusNotFound {
		t.Errorf("a stale hash answered %d, want 404", resp.status)
	}

	_, appJS := get(t, s.URL+"/embed/app.js", nil)
	wasm := regexp.MustCompile(`/embed/web/app\.[0-9a-f]{12}\.wasm`).FindString(appJS)
	if wasm == "" {
		t.Fatal("app.js loads no content-hashed app.wasm: build it first with `make wasm` (make test does)")
	}
	for _, tc := range []struct{ accept, encoding string }{{"br, gzip", "br"}, {"gzip", "gzip"}, {"", ""}} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+wasm, nil)
		req.Header.Set("Accept-Encoding", tc.accept)
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != tc.encoding ||
			resp.Header.Get("Content-Type") != "application/wasm" {
			t.Errorf("Accept-Encoding %q: status %d, Content-Encoding %q, Content-Type %q", tc.accept, resp.StatusCode,
				resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
		}
	}
}

func TestDemoPage(t *testing.T) {
	s := newTestServer(t)
	demo := httptest.NewServer(server.DemoPage(s.Svc, slog.New(slog.DiscardHandler), seed.SiteSlug, seed.ArticleKey, "8080"))
	t.Cleanup(demo.Close)
	resp, page := get(t, demo.URL+"/", nil)
	if resp.status != http.StatusOK {
		t.Fatalf("status %d", resp.status)
	}
	text := html.UnescapeString(page)
	for _, want := range []string{
		"<h1>Social Credit: China's Digital Dystopia In The Making</h1>",
		"Leave No Dark Corner",
		`<div id="threadline"></div>`,
		`<script src="http://127.0.0.1:8080/embed.js" data-site="demo" data-article="social-credit" async></script>`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo page lacks %q", want)
		}
	}
	if resp, _ := get(t, demo.URL+"/other", nil); resp.status != http.StatusNotFound {
		t.Errorf("/other answered %d", resp.status)
	}

	// The page signs its visitor in as one of its personas, with the demo site's secret; signed out, it says so.
	_, page = get(t, demo.URL+"/?as=moderator", nil)
	token := between(page, `data-sso="`, `"`)
	var session struct {
		SignIn struct {
			Moderator bool
			Reader    struct{ DisplayName string }
		}
	}
	s.mustDo(t, "", `mutation($t: String!) { signIn(input: {site: "demo", token: $t}) { moderator reader { displayName } } }`,
		map[string]any{"t": token}, &session)
	if !session.SignIn.Moderator || session.SignIn.Reader.DisplayName != "Sam (a moderator)" {
		t.Errorf("?as=moderator signs in %+v", session.SignIn)
	}
	if _, page = get(t, demo.URL+"/?as=signed-out", nil); !strings.Contains(page, `data-sso="" async`) {
		t.Error("?as=signed-out does not sign the reader out")
	}
}

// TestLockedThreadSaysSo: the prerendered page of a locked article says it is locked instead of offering a
// composer.
func TestLockedThreadSaysSo(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	fx.mutate(t, fx.key, `mutation($a: ID!) { lockArticle(input: {articleId: $a, reason: "Closed."}) { article { locked } } }`, map[string]any{"a": fx.article})
	_, page := get(t, fx.URL+"/embed/thread?site=blog&article=post-1", nil)
	if !strings.Contains(page, "This thread is locked") || strings.Contains(page, "Join the discussion") {
		t.Error("the locked thread's page does not say it is locked, or still offers a composer")
	}
}

// TestFirstEmbedCreatesTheArticle: a page that embeds a new key gets its thread, on a site that lets that page
// embed; a page elsewhere does not create one.
func TestFirstEmbedCreatesTheArticle(t *testing.T) {
	s := newTestServer(t)
	blog := &thread.Site{Slug: "blog", Name: "Blog", FrameAncestors: []string{"https://blog.example"}}
	if err := s.DB.CreateSite(context.Background(), blog); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query, referer string
		created              bool
		title, url           string
	}{
		{"open site", "site=demo&article=new-post&title=A+new++post&url=https://news.example/new-post", "https://news.example/", true, "A new post", "https://news.example/new-post"},
		{"title defaults to the key", "site=demo&article=untitled", "", true, "untitled", ""},
		{"unlinkable url dropped", "site=demo&article=js&url=javascript:alert(1)", "", true, "js", ""},
		{"allowed origin", "site=blog&article=hello&url=https://blog.example/hello", "https://blog.example/hello", true, "hello", "https://blog.example/hello"},
		{"other origin", "site=blog&article=spam", "https://elsewhere.example/", false, "", ""},
		{"other origin claiming the blog's url", "site=blog&article=spam2&url=https://blog.example/x", "https://elsewhere.example/", false, "", ""},
		{"unknown site", "site=nowhere&article=x", "", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := get(t, s.URL+"/embed/thread?"+tc.query, map[string]string{"Referer": tc.referer})
			if resp.status != http.StatusOK {
				t.Fatalf("status %d", resp.status)
			}
			q, _ := url.ParseQuery(tc.query)
			a, err := s.Svc.Article(context.Background(), q.Get("site"), q.Get("article"))
			if created := err == nil; created != tc.created {
				t.Fatalf("created = %v (%v), want %v", created, err, tc.created)
			}
			if !tc.created {
				if !strings.Contains(page, "could not be loaded") {
					t.Error("the page does not say the comments could not be loaded")
				}
				return
			}
			if a.Title != tc.title || a.URL != tc.url {
				t.Errorf("article %q at %q, want %q at %q", a.Title, a.URL, tc.title, tc.url)
			}
			if !strings.Contains(page, `<h1 class="tl-count">0 comments</h1>`) {
				t.Error("the new thread is not shown, empty")
			}
		})
	}
}

// TestArticlesByKeys answers the counts of a listing page in one request: in the keys' order, null for a key
// the site has no article for, and refuses more than 100 keys.
func TestArticlesByKeys(t *testing.T) {
	s := newTestServer(t)
	var data struct {
		Articles []*struct {
			Key          string
			CommentCount int
		}
	}
	s.mustDo(t, "", `{ articles(site: "demo", keys: ["nothing", "social-credit", "nothing"]) { key commentCount } }`, nil, &data)
	if len(data.Articles) != 3 || data.Articles[0] != nil || data.Articles[1] == nil || data.Articles[1].CommentCount != 45 || data.Articles[2] != nil {
		t.Errorf("articles: %s", asJSON(data.Articles))
	}
	s.mustDo(t, "", `{ articles(site: "no-such-site", keys: ["social-credit"]) { key } }`, nil, &data)
	if len(data.Articles) != 1 || data.Articles[0] != nil {
		t.Errorf("another site's: %s", asJSON(data.Articles))
	}
	keys := make([]string, 101)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	expectError(t, s.do(t, "", `query($k: [String!]!) { articles(site: "demo", keys: $k) { key } }`, map[string]any{"k": keys}), "BAD_USER_INPUT")
}

// TestExportForModerators: a site's moderator downloads its discussions through the API; nobody else may.
func TestExportForModerators(t *testing.T) {
	fx := newModFixture(t, thread.SiteSettings{})
	author, _ := fx.user(t, "Ada", false)
	fx.addComment(t, author, fx.article, "", "Exported")
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"moderator key", fx.key, http.StatusOK},
		{"another site's key", fx.otherKey, http.StatusForbidden},
		{"reader", author, http.StatusForbidden},
		{"no token", "", http.StatusUnauthorized},
	} {
		header := map[string]string{}
		if tc.token != "" {
			header["Authorization"] = "Bearer " + tc.token
		}
		r := fx.raw(t, http.MethodGet, "/export?site=blog", header, nil)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if tc.status == http.StatusOK && (!strings.HasPrefix(string(r.body), `{"format": "threadline"`) || !strings.Contains(string(r.body), `"body":"Exported"`)) {
			t.Errorf("the export: %.300s", r.body)
		}
	}
}
