package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/threadline/threadline/thread"
)

// mounted waits until the WebAssembly has taken over and run OnMount, which reads the embedding page's address
// and starts the live connection.
var mounted = chromedp.Poll[bool](`document.querySelector('#threadline[data-source="client"]:not([data-live="off"])') !== null`,
	chromedp.WithPollingTimeout(30*time.Second))

// linkState reads where the page's comment Links go.
const linkState = `[...document.querySelectorAll("a.tl-link")].map(a => a.getAttribute("href"))`

// TestLinksIgnoreTheURLParameter opens thread pages whose url parameter points at another site, as anyone can
// link to them: a comment's Link (target _top) goes to the article's stored URL, or, when the article has none
// and no embedding page vouches for the parameter, there is no Link; before and after the WebAssembly takes
// over.
func TestLinksIgnoreTheURLParameter(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	a, err := s.svc.EmbedArticle(ctx, "demo", "stored-url", "Stored", "https://news.example/story", "https://news.example")
	if err != nil {
		t.Fatal(err)
	}
	reader, _, err := s.svc.CreateReader(ctx, "demo", "Linker")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.AddComment(thread.WithViewer(ctx, reader), thread.NewComment{ArticleID: a.ID, Body: "A comment to link to"}); err != nil {
		t.Fatal(err)
	}
	// http, so that the referrer of the last case survives (a browser withholds an https referrer from http).
	const hostile = "&url=http%3A%2F%2Fevil.example%2Fphish"
	for _, tc := range []struct {
		name, url, referrer string
		want                string // the start of every Link; "" for none
	}{
		{"stored URL", s.api + "/embed/thread?site=demo&article=stored-url" + hostile, "", "https://news.example/story#comment-"},
		{"no stored URL", s.threadURL() + hostile, "", ""},
		// Not in a frame, the page has no embedding page, whoever linked to it.
		{"no stored URL, linked from the url's site", s.threadURL() + hostile, "http://evil.example/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			html, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			prerendered := strings.Count(string(html), `class="tl-act tl-link"`)
			if strings.Contains(string(html), `href="http://evil.example`) ||
				tc.want == "" && prerendered != 0 || tc.want != "" && strings.Count(string(html), `href="`+tc.want) != prerendered {
				t.Errorf("prerendered: %d Links, want them all to %q (none if empty)", prerendered, tc.want)
			}

			b := newBrowser(t)
			if _, err := chromedp.Call(b, page.Navigate, page.NavigateParams{URL: tc.url, Referrer: tc.referrer}); err != nil {
				t.Fatal(err)
			}
			run(t, b, mounted)
			if tc.referrer != "" {
				if got := run(t, b, chromedp.Evaluate[string](`document.referrer`)); got != tc.referrer {
					t.Fatalf("the page's referrer is %q, want %q", got, tc.referrer)
				}
			}
			links := run(t, b, chromedp.Evaluate[[]string](linkState))
			if tc.want == "" && len(links) != 0 {
				t.Errorf("after the takeover: Links to %q, want none", links)
			}
			if tc.want != "" && len(links) == 0 {
				t.Error("after the takeover: no Link")
			}
			for _, l := range links {
				if !strings.HasPrefix(l, tc.want) {
					t.Errorf("after the takeover: a Link to %q, want %q…", l, tc.want)
				}
			}
		})
	}
	// Framed by a page of one origin that passes the address of another: no Link either.
	framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><iframe src="`+s.threadURL()+hostile+`" width="600" height="600"></iframe>`)
	}))
	t.Cleanup(framer.Close)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(framer.URL)); err != nil {
		t.Fatal(err)
	}
	var framed struct {
		Client bool
		Links  []string
	}
	for deadline := time.Now().Add(30 * time.Second); !framed.Client; time.Sleep(100 * time.Millisecond) {
		inFrame(t, b, `({client: document.querySelector('#threadline[data-source="client"]:not([data-live="off"])') !== null, links: `+linkState+`})`, &framed)
		if time.Now().After(deadline) {
			t.Fatal("the framed thread was not taken over")
		}
	}
	if len(framed.Links) != 0 {
		t.Errorf("framed by another origin than the url's: Links to %q", framed.Links)
	}
}

// inFrame evaluates expr in the thread's frame of the page in b (the frame is on another origin, so the page's
// own scripts cannot reach it; the browser's debugging protocol can), and decodes its value into out.
func inFrame(t *testing.T, b context.Context, expr string, out any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := func() error {
			tree, err := chromedp.Call(b, page.GetFrameTree, struct{}{})
			if err != nil {
				return err
			}
			for _, child := range tree.FrameTree.ChildFrames {
				if !strings.Contains(child.Frame.URL, "/embed/thread?") {
					continue
				}
				world, err := chromedp.Call(b, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: child.Frame.ID, WorldName: "test"})
				if err != nil {
					return err
				}
				res, err := chromedp.Call(b, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, ContextID: world.ExecutionContextID, ReturnByValue: new(true)})
				if err != nil {
					return err
				}
				if res.ExceptionDetails != nil {
					return fmt.Errorf("%s", res.ExceptionDetails.Text)
				}
				return json.Unmarshal(res.Result.Value, out)
			}
			return io.EOF
		}()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("evaluating %s in the thread's frame: %v", expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
