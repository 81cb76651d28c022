package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/thread"
)

// embed asks for the thread page of key on site as a hand-made request does: with the url parameter and the
// headers given, from client (an X-Forwarded-For address, read behind a trusted proxy; "" for the socket's).
func embed(t *testing.T, base, site, key, pageURL string, header map[string]string) {
	t.Helper()
	q := url.Values{"site": {site}, "article": {key}}
	if pageURL != "" {
		q.Set("url", pageURL)
	}
	if r, _ := get(t, base+"/embed/thread?"+q.Encode(), header); r.status != http.StatusOK {
		t.Fatalf("the thread page answered %d", r.status)
	}
}

// exists reports whether the site has an article with the key.
func exists(t *testing.T, svc *thread.Service, site, key string) bool {
	t.Helper()
	_, err := svc.Article(context.Background(), site, key)
	if err != nil && thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatal(err)
	}
	return err == nil
}

// TestEmbedCreatesArticlesOnlyOnTheSitesOrigins makes the requests of the probe and its relatives against a
// site that lists one origin: a new article needs an http(s) URL on that origin, whatever the Referer, and a
// Referer (or Origin), when sent, on that origin too. Nothing a request made by hand says can get past that.
func TestEmbedCreatesArticlesOnlyOnTheSitesOrigins(t *testing.T) {
	s := newTestServer(t)
	if _, _, _, err := s.Svc.CreateSite(context.Background(), "blog", thread.SiteSettings{Name: "Blog", Origins: []string{"https://blog.example"}}); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name    string
		url     string
		header  map[string]string
		created bool
	}{
		{"a page of the blog, as embed.js asks", "https://blog.example/p", map[string]string{"Referer": "https://blog.example/"}, true},
		{"a page of the blog, no Referer", "https://blog.example/p", nil, true},
		{"origin in another case", "HTTPS://Blog.Example/p", nil, true},
		{"no Referer, no url", "", nil, false},
		{"no Referer, url elsewhere", "https://evil.example/p", nil, false},
		{"Referer elsewhere, url on the blog", "https://blog.example/p", map[string]string{"Referer": "https://evil.example/"}, false},
		{"Origin elsewhere, url on the blog", "https://blog.example/p", map[string]string{"Origin": "https://evil.example"}, false},
		{"forged Referer, url elsewhere", "https://evil.example/p", map[string]string{"Referer": "https://blog.example/"}, false},
		{"forged Referer, no url", "", map[string]string{"Referer": "https://blog.example/"}, false},
		{"javascript: url", "javascript:alert(1)//https://blog.example/", nil, false},
		{"javascript: url with the blog's Referer", "javascript:fetch('//evil.example')", map[string]string{"Referer": "https://blog.example/"}, false},
		{"data: url", "data:text/html,<script>alert(1)</script>", nil, false},
		{"url with a user name", "https://blog.example@evil.example/p", nil, false},
		{"url on another port", "https://blog.example:8443/p", nil, false},
		{"url over http", "http://blog.example/p", nil, false},
		{"url on a subdomain", "https://evil.blog.example/p", nil, false},
		{"url on a longer name", "https://blog.example.evil.example/p", nil, false},
		{"url with a space", "https://blog.example/ p", nil, false},
		{"url with a bidi override", "https://blog.example/\u202Ep", nil, false},
		{"scheme-relative url", "//blog.example/p", nil, false},
		{"url too long", "https://blog.example/" + strings.Repeat("a", thread.MaxArticleURLBytes), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprint("post-", i)
			embed(t, s.URL, "blog", key, tc.url, tc.header)
			if got := exists(t, s.Svc, "blog", key); got != tc.created {
				t.Errorf("created = %v, want %v", got, tc.created)
			}
		})
	}
}

// TestEmbedCreatesArticlesBoundedPerHour: a site's first embeds create at most its hourly bound of articles,
// whatever addresses the requests come from, counted in the database: a second server over the same file (a
// restart, or another process) holds to the same count. An hour later there is room again.
func TestEmbedCreatesArticlesBoundedPerHour(t *testing.T) {
	s := newTestServerWith(t, server.Options{TrustProxy: true})
	ctx := context.Background()
	if _, _, _, err := s.Svc.CreateSite(ctx, "open", thread.SiteSettings{Name: "Open", Origins: []string{"*"}, EmbedArticlesPerHour: 5}); err != nil {
		t.Fatal(err)
	}
	s.Svc.SetRateLimits(thread.DefaultRateLimits)
	from := func(n int) map[string]string {
		return map[string]string{"X-Forwarded-For": fmt.Sprint("203.0.113.", n)}
	}
	for i := range 8 {
		embed(t, s.URL, "open", fmt.Sprint("a", i), "https://anywhere.example/", from(i))
		if got, want := exists(t, s.Svc, "open", fmt.Sprint("a", i)), i < 5; got != want {
			t.Fatalf("article %d: created = %v, want %v", i, got, want)
		}
	}
	if _, err := s.Svc.EmbedArticle(ctx, "open", "direct", "", "", ""); thread.ErrorCode(err) != thread.CodeRateLimited {
		t.Errorf("over the bound, EmbedArticle answers %v, want RATE_LIMITED", err)
	}

	// Another server over the same database: the count is the database's.
	svc2 := thread.NewService(s.DB.Another(t))
	svc2.Now = s.clock.now
	hs2 := httptest.NewServer(server.New(svc2, server.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer hs2.Close()
	embed(t, hs2.URL, "open", "second-server", "https://anywhere.example/", nil)
	if exists(t, s.Svc, "open", "second-server") {
		t.Error("a second server created an article past the bound")
	}

	s.clock.advance(time.Hour)
	embed(t, s.URL, "open", "an-hour-later", "https://anywhere.example/", from(100))
	if !exists(t, s.Svc, "open", "an-hour-later") {
		t.Error("an hour later, a first embed still creates nothing")
	}
}

// TestEmbedCreatesArticlesBoundedPerAddress: one client address starts only so many threads, on any site;
// another address is not held back by it. The probe made 60 articles in 281 ms from one address.
func TestEmbedCreatesArticlesBoundedPerAddress(t *testing.T) {
	s := newTestServerWith(t, server.Options{TrustProxy: true})
	s.Svc.SetRateLimits(thread.DefaultRateLimits)
	one := map[string]string{"X-Forwarded-For": "198.51.100.7"}
	created := 0
	for i := range 60 {
		key := fmt.Sprint("flood-", i)
		embed(t, s.URL, "demo", key, "https://demo.example/"+key, one)
		if exists(t, s.Svc, "demo", key) {
			created++
		}
	}
	if want := thread.DefaultRateLimits.ArticleBurst; created != want {
		t.Errorf("one address created %d articles at once, want %d", created, want)
	}
	embed(t, s.URL, "demo", "another-address", "https://demo.example/x", map[string]string{"X-Forwarded-For": "198.51.100.8"})
	if !exists(t, s.Svc, "demo", "another-address") {
		t.Error("another address is held back by the first")
	}
	// Thread pages of articles that exist are not creation attempts: they are never limited.
	for range 20 {
		if r, page := get(t, s.URL+"/embed/thread?site=demo&article=social-credit", one); r.status != http.StatusOK || strings.Contains(page, "could not be loaded") {
			t.Fatal("the sample's thread page is refused to an address that started too many threads")
		}
	}
}

// TestEmbedCreatesNoArticlesWhenTurnedOff: a site whose owner turned creation by embeds off gets no article
// from any request, however well-formed, until the owner creates it; then the page shows its thread.
func TestEmbedCreatesNoArticlesWhenTurnedOff(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	if _, _, _, err := s.Svc.CreateSite(ctx, "closed", thread.SiteSettings{Name: "Closed", Origins: []string{"https://closed.example"}, NoEmbedArticles: true}); err != nil {
		t.Fatal(err)
	}
	embed(t, s.URL, "closed", "launch", "https://closed.example/launch", map[string]string{"Referer": "https://closed.example/"})
	if exists(t, s.Svc, "closed", "launch") {
		t.Fatal("a first embed created an article on a site that turned that off")
	}
	if _, err := s.Svc.CreateArticle(ctx, "closed", "launch", "Launch day", "https://closed.example/launch"); err != nil {
		t.Fatal(err)
	}
	if _, page := get(t, s.URL+"/embed/thread?site=closed&article=launch", nil); !strings.Contains(page, `<h1 class="tl-count">0 comments</h1>`) {
		t.Error("the owner's article is not shown")
	}
	if _, err := s.Svc.CreateArticle(ctx, "closed", "launch", "Again", ""); thread.ErrorCode(err) != thread.CodeConflict {
		t.Errorf("creating it twice: %v, want CONFLICT", err)
	}
	if _, err := s.Svc.CreateArticle(ctx, "closed", "bad-url", "", "javascript:alert(1)"); thread.ErrorCode(err) != thread.CodeInvalid {
		t.Errorf("a javascript: URL: %v, want BAD_USER_INPUT", err)
	}
}

// TestEmbedBoundsWhatAPageSays: a first embed's key, title and url are bounded and cleaned: a key over the
// limit creates nothing; a title is cut, cleaned of bidirectional and invisible characters, and the key when
// nothing visible is left.
func TestEmbedBoundsWhatAPageSays(t *testing.T) {
	s := newTestServer(t)
	long := strings.Repeat("k", thread.MaxArticleKeyChars)
	for _, tc := range []struct {
		name, key, title string
		created          bool
		wantTitle        string
	}{
		{"a key at the limit", long, "", true, long},
		{"a key over the limit", long + "k", "", false, ""},
		{"a key of two lines", "a\nb", "", false, ""},
		{"a long title", "long-title", strings.Repeat("t", 100_000), true, strings.Repeat("t", thread.MaxArticleTitleChars-1) + "…"},
		{"a title with bidi overrides", "bidi-title", "Breaking\u202E news\u2066", true, "Breaking news"},
		{"a title of nothing visible", "blank-title", "\u200B\u3164\u202E", true, "blank-title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"site": {"demo"}, "article": {tc.key}, "title": {tc.title}, "url": {"https://demo.example/x"}}
			get(t, s.URL+"/embed/thread?"+q.Encode(), nil)
			a, err := s.Svc.Article(context.Background(), "demo", tc.key)
			if (err == nil) != tc.created {
				t.Fatalf("created = %v (%v), want %v", err == nil, err, tc.created)
			}
			if tc.created && a.Title != tc.wantTitle {
				t.Errorf("title %+q, want %+q", a.Title, tc.wantTitle)
			}
		})
	}
}
