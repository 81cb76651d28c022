package widget_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/threadline/threadline/internal/hostile"
	"github.com/threadline/threadline/linkurl"
	"github.com/threadline/threadline/thread"
)

// watchForScript makes the browser record what an injected script would do: every dialog it opens (the
// payloads call alert) is counted and dismissed, and every Content-Security-Policy violation is kept in
// window.__violations. It returns the dialog count.
func watchForScript(t *testing.T, b context.Context) *atomic.Int32 {
	t.Helper()
	var dialogs atomic.Int32
	opened := make(chan struct{}, 64)
	if err := chromedp.Listen(b, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
			select {
			case opened <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	go func() { // a dialog left open would block the page
		for range opened {
			_, _ = chromedp.Call(b, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	const record = `window.__violations = [];
	document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.effectiveDirective + " " + e.blockedURI));`
	if _, err := chromedp.Call(b, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: record}); err != nil {
		t.Fatal(err)
	}
	return &dialogs
}

// pageState is what the test reads of the thread page in the browser.
type pageState struct {
	Source     string   `json:"source"`
	Pwned      bool     `json:"pwned"`
	Title      string   `json:"title"`
	Authors    []string `json:"authors"`
	Hrefs      []string `json:"hrefs"`
	Links      int      `json:"links"`
	Scripts    []string `json:"scripts"`
	Handlers   []string `json:"handlers"`
	Violations []string `json:"violations"`
}

const readState = `(() => {
  const all = [...document.querySelectorAll("*")];
  return {
    source: (document.querySelector("#threadline") || {dataset: {}}).dataset.source || "",
    pwned: !!window.__pwned,
    title: document.title,
    authors: [...document.querySelectorAll(".tl-author")].map(e => e.textContent),
    hrefs: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
    links: document.querySelectorAll("a.tl-link").length,
    scripts: [...document.scripts].map(s => s.getAttribute("src") || "inline:" + s.textContent.slice(0, 40)),
    handlers: all.flatMap(e => [...e.attributes].filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name)),
    violations: window.__violations || [],
  };
})()`

// TestHostileValuesRunNoScript pushes hostile titles, page URLs, display names and comment bodies through the
// first embed and the API, and loads each thread page in Chromium: before the WebAssembly takes over and after,
// no injected script runs (no dialog, window.__pwned unset, no policy violation, which would mean that markup
// got in and was only stopped by the policy), every link goes to an http(s) URL, and names and titles show as
// the text they are.
func TestHostileValuesRunNoScript(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	type tc struct {
		query  url.Values
		author string // a name on the page, as stored
	}
	var cases []tc
	for i, v := range hostile.Text {
		u := hostile.URLs[i%len(hostile.URLs)]
		if i >= len(hostile.URLs) {
			u = "https://news.example/?q=" + v
		}
		q := url.Values{"site": {"demo"}, "article": {fmt.Sprintf("hostile-%d", i)}, "title": {v}, "url": {u}}
		if resp, err := http.Get(s.api + "/embed/thread?" + q.Encode()); err != nil {
			t.Fatal(err)
		} else {
			resp.Body.Close()
		}
		a, err := s.svc.Article(ctx, "demo", q.Get("article"))
		if err != nil {
			t.Fatalf("the first embed made no article: %v", err)
		}
		reader, _, err := s.svc.CreateReader(ctx, "demo", v)
		if err != nil { // refused names are safe too; post under another
			reader, _, err = s.svc.CreateReader(ctx, "demo", fmt.Sprintf("Stand-in %d", i))
			if err != nil {
				t.Fatal(err)
			}
		}
		bodies := []string{v}
		if i == 0 {
			bodies = append(bodies, hostile.Bodies...)
		}
		for _, body := range bodies {
			if _, err := s.svc.AddComment(thread.WithViewer(ctx, reader), thread.NewComment{ArticleID: a.ID, Body: body}); err != nil {
				t.Fatal(err)
			}
		}
		cases = append(cases, tc{query: q, author: reader.DisplayName})
	}

	b := newBrowser(t)
	dialogs := watchForScript(t, b)
	for _, c := range cases {
		a, err := s.svc.Article(ctx, "demo", c.query.Get("article"))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("title %.30q url %.30q", c.query.Get("title"), c.query.Get("url"))
		if err := chromedp.Do(b, chromedp.Navigate(s.api+"/embed/thread?"+c.query.Encode())); err != nil {
			t.Fatal(err)
		}
		for _, when := range []string{"prerendered", "taken over"} {
			if when == "taken over" {
				run(t, b, takenOver)
				_ = chromedp.Do(b, chromedp.Sleep(100*time.Millisecond)) // let a handler that was injected fire
			}
			st := run(t, b, chromedp.Evaluate[pageState](readState))
			if when == "prerendered" && st.Source != "prerender" && st.Source != "client" {
				t.Fatalf("%s: not the thread page (%q)", name, st.Source)
			}
			if st.Pwned || dialogs.Load() > 0 || len(st.Violations) > 0 || len(st.Handlers) > 0 {
				t.Errorf("%s, %s: script ran or was injected: pwned %v, %d dialogs, violations %q, handlers %q",
					name, when, st.Pwned, dialogs.Load(), st.Violations, st.Handlers)
			}
			for _, src := range st.Scripts {
				if !strings.HasPrefix(src, "/embed/") && !strings.HasPrefix(src, "inline:\n(function () {\n  var theme") {
					t.Errorf("%s, %s: a script that is not Threadline's: %q", name, when, src)
				}
			}
			for _, href := range st.Hrefs {
				if !linkurl.Allowed(href) {
					t.Errorf("%s, %s: a link to %q", name, when, href)
				}
			}
			if linkurl.Allowed(c.query.Get("url")) != (st.Links > 0) {
				t.Errorf("%s, %s: %d comment links for url %q", name, when, st.Links, c.query.Get("url"))
			}
			if want := "Comments on " + a.Title; when == "prerendered" && st.Title != want {
				t.Errorf("%s: title %q, want %q", name, st.Title, want)
			}
			if !slices.Contains(st.Authors, c.author) {
				t.Errorf("%s, %s: the author %q is not shown as text, but %q", name, when, c.author, st.Authors)
			}
		}
	}
}

// TestPolicyBlocksInjectedScript: had markup ever got into the thread page, the page's Content-Security-Policy
// would stop it: an inline script, an event handler attribute, a javascript: URL and a string handed to
// setTimeout all stay dead, and each is reported. The widget itself, live connection included, runs with no
// violation.
func TestPolicyBlocksInjectedScript(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	dialogs := watchForScript(t, b)
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
	run(t, b, chromedp.Poll[bool](`document.querySelector('#threadline[data-live="live"]') !== null`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if v := run(t, b, chromedp.Evaluate[[]string](`window.__violations`)); len(v) > 0 {
		t.Errorf("the widget itself violates its policy: %q", v)
	}
	run(t, b, chromedp.Evaluate[bool](`(() => {
	  const s = document.createElement("script");
	  s.textContent = "window.__pwned = 1; alert(1)";
	  document.body.appendChild(s);
	  document.body.insertAdjacentHTML("beforeend", '<img src="/nowhere" onerror="window.__pwned = 2; alert(2)">');
	  const a = document.createElement("a");
	  a.href = "javascript:window.__pwned = 3; alert(3)";
	  document.body.appendChild(a);
	  a.click();
	  setTimeout("window.__pwned = 4; alert(4)", 0);
	  return true;
	})()`))
	violations := run(t, b, chromedp.Poll[[]string](`window.__violations.length >= 3 ? window.__violations : null`,
		chromedp.WithPollingTimeout(5*time.Second)))
	t.Logf("violations: %q", violations)
	if pwned := run(t, b, chromedp.Evaluate[any](`window.__pwned || 0`)); pwned != float64(0) || dialogs.Load() > 0 {
		t.Errorf("an injected script ran: __pwned = %v, %d dialogs", pwned, dialogs.Load())
	}
	for _, want := range []string{"script-src-elem", "script-src-attr", "script-src"} {
		if !slices.ContainsFunc(violations, func(v string) bool { return strings.HasPrefix(v, want+" ") }) {
			t.Errorf("no %s violation reported in %q", want, violations)
		}
	}
}

// TestDemoPageRunsUnderItsPolicy: the demo publisher's page, with its Content-Security-Policy, still embeds the
// thread, which sizes its frame, with no violation of the policy; a hostile ?as= changes nothing.
func TestDemoPageRunsUnderItsPolicy(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	dialogs := watchForScript(t, b)
	if err := chromedp.Do(b, chromedp.Navigate(s.demo+"/?as="+url.QueryEscape(hostile.Text[0]))); err != nil {
		t.Fatal(err)
	}
	const height = `document.querySelector('#threadline iframe').getBoundingClientRect().height`
	run(t, b, chromedp.Poll[bool](height+` > 2000`, chromedp.WithPollingTimeout(30*time.Second)))
	st := run(t, b, chromedp.Evaluate[pageState](readState))
	if st.Pwned || dialogs.Load() > 0 || len(st.Violations) > 0 || len(st.Handlers) > 0 {
		t.Errorf("the demo page: pwned %v, %d dialogs, violations %q, handlers %q", st.Pwned, dialogs.Load(), st.Violations, st.Handlers)
	}
}

// TestEmbedScriptEncodesItsAttributes: a publisher's page whose embed snippet carries hostile data-* values gets
// an iframe on Threadline's origin, at the thread page, whose parameters are exactly those values; a page address
// that is not http(s) is not passed on.
func TestEmbedScriptEncodesItsAttributes(t *testing.T) {
	s := newSite(t)
	// The publisher's page, its attributes escaped by hand: html/template would filter a javascript: URL out of
	// data-url before embed.js ever saw it.
	var current struct{ Key, Title, URL, Theme string }
	pub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		e := html.EscapeString
		fmt.Fprintf(w, `<!doctype html><title>host</title><div id="threadline"></div>
<script src="%s/embed.js" data-site="demo" data-article="%s" data-title="%s" data-url="%s" data-theme="%s"></script>`,
			s.api, e(current.Key), e(current.Title), e(current.URL), e(current.Theme))
	}))
	t.Cleanup(pub.Close)
	b := newBrowser(t)
	dialogs := watchForScript(t, b)
	for i, v := range hostile.Text {
		u := hostile.URLs[i%len(hostile.URLs)]
		current = struct{ Key, Title, URL, Theme string }{"embed " + v, v, u, v}
		if err := chromedp.Do(b, chromedp.Navigate(pub.URL+"/")); err != nil {
			t.Fatal(err)
		}
		src := run(t, b, chromedp.Poll[string](`(document.querySelector("#threadline iframe") || {}).src || ""`,
			chromedp.WithPollingTimeout(5*time.Second)))
		got, err := url.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		// What the snippet's attributes hold, as the browser parsed them.
		data := run(t, b, chromedp.Evaluate[struct{ Article, Title, URL string }](
			`(d => ({Article: d.article, Title: d.title, URL: d.url}))(document.querySelector("script[data-site]").dataset)`))
		q := got.Query()
		if got.Scheme+"://"+got.Host != s.api || got.Path != "/embed/thread" || q.Get("site") != "demo" ||
			q.Get("article") != data.Article || q.Get("title") != data.Title || q.Has("theme") ||
			q.Has("url") != linkurl.Allowed(data.URL) || q.Has("url") && q.Get("url") != data.URL {
			t.Errorf("data-title %.30q, data-url %.30q: iframe at %q", data.Title, data.URL, src)
		}
		if st := run(t, b, chromedp.Evaluate[pageState](readState)); st.Pwned || dialogs.Load() > 0 || len(st.Violations) > 0 {
			t.Errorf("data-title %.30q: script ran on the publisher's page", v)
		}
	}
}
