package widget_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/store/sqlite/sqlitetest"
	"github.com/threadline/threadline/thread"
	"github.com/threadline/threadline/widget/assets"
)

// site is a running Threadline with the sample thread, and a publisher's page on another origin embedding it.
type site struct {
	api, demo string
	svc       *thread.Service
	db        *sqlite.DB
}

func newSite(t *testing.T) *site {
	t.Helper()
	if !assets.HasWasm() {
		t.Fatal("the widget's WebAssembly is not built: run `make wasm` (make test does)")
	}
	ctx := context.Background()
	db, svc := sqlitetest.Open(t)
	if _, err := seed.Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httptest.NewServer(server.New(svc, server.Options{Log: log}))
	t.Cleanup(api.Close)
	_, port, _ := net.SplitHostPort(api.Listener.Addr().String())
	demo := httptest.NewServer(server.DemoPage(svc, log, seed.SiteSlug, seed.ArticleKey, port))
	t.Cleanup(demo.Close)
	return &site{api: api.URL, demo: demo.URL, svc: svc, db: db}
}

func (s *site) threadURL() string {
	return s.api + "/embed/thread?site=demo&article=social-credit"
}

// newBrowser starts a headless Debian Chromium with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser tests need Debian's chromium package (.ci/run installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// run runs a browser action and returns its result, failing the test on an error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// takenOver waits until the WebAssembly has replaced the prerendered thread.
var takenOver = chromedp.Poll[bool](`document.querySelector('#threadline[data-source="client"]') !== null`,
	chromedp.WithPollingTimeout(30*time.Second))

const firstBody = `document.querySelector('.tl-list > .tl-comment .tl-body').textContent`
const commentCount = `document.querySelectorAll('.tl-list > .tl-comment').length`

func TestReadableWithoutJavaScript(t *testing.T) {
	s := newSite(t)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	count := run(t, ctx, chromedp.Text(chromedp.CSS(".tl-count")))
	body := run(t, ctx, chromedp.Evaluate[string](firstBody))
	n := run(t, ctx, chromedp.Evaluate[int](commentCount))
	if count != "45 comments" || !strings.HasPrefix(body, "It’s a spiritual war") || n != 20 {
		t.Errorf("without JavaScript: %q, %d comments shown, first %.30q", count, n, body)
	}
}

func TestSortLoadMoreAndCollapse(t *testing.T) {
	s := newSite(t)
	// A reply under the first comment, to collapse.
	ctx := context.Background()
	reader, _, err := s.svc.CreateReader(ctx, "demo", "Replier")
	if err != nil {
		t.Fatal(err)
	}
	top, err := s.svc.TopLevelComments(ctx, 1, thread.PageRequest{Order: thread.OrderOldest, First: 1})
	if err != nil || len(top.Comments) != 1 {
		t.Fatalf("first comment: %v", err)
	}
	if _, err := s.svc.AddComment(thread.WithViewer(ctx, reader), thread.NewComment{
		ArticleID: top.Comments[0].ArticleID, ParentID: top.Comments[0].ID, Body: "A reply to collapse",
	}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)

	for _, tc := range []struct{ order, first string }{
		{"NEWEST", "quite progressive, the Chinese society"},
		{"OLDEST", "It’s a spiritual war"},
		{"TOP", "It’s a spiritual war"}, // no likes in the sample: oldest first
	} {
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`.tl-sort-btn[data-order="`+tc.order+`"]`))); err != nil {
			t.Fatal(err)
		}
		got := run(t, b, chromedp.Poll[string](
			`document.querySelector('.tl-sort-btn[data-order="`+tc.order+`"][aria-pressed="true"]') && !document.querySelector('.tl-sort-btn:disabled') ? `+firstBody+` : ""`,
			chromedp.WithPollingTimeout(10*time.Second)))
		if !strings.HasPrefix(got, tc.first) {
			t.Errorf("%s: first comment %.40q, want %q", tc.order, got, tc.first)
		}
		// The buttons act on the comment now drawn where they are, not on the one drawn there before the sort.
		const reply = `.tl-list > .tl-comment:first-child .tl-actions button:nth-of-type(2)`
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(reply))); err != nil {
			t.Fatal(err)
		}
		run(t, b, chromedp.Poll[bool](`document.querySelector('.tl-list > .tl-comment:first-child > .tl-composer') !== null`,
			chromedp.WithPollingTimeout(5*time.Second)))
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(reply))); err != nil { // and close it again
			t.Fatal(err)
		}
	}

	// Load more until every top-level comment of the sample is on the page.
	for range 5 {
		more := run(t, b, chromedp.Evaluate[bool](`document.querySelector('#tl-more') !== null`))
		if !more {
			break
		}
		before := run(t, b, chromedp.Evaluate[int](commentCount))
		if err := chromedp.Do(b, chromedp.Click(chromedp.ID("tl-more"))); err != nil {
			t.Fatal(err)
		}
		run(t, b, chromedp.Poll[bool](commentCount+` > `+strconv.Itoa(before), chromedp.WithPollingTimeout(10*time.Second)))
	}
	if n := run(t, b, chromedp.Evaluate[int](commentCount)); n != 45 {
		t.Errorf("after loading more: %d comments, want 45", n)
	}

	// Collapse and expand the first comment's replies.
	const replies = `document.querySelectorAll('.tl-list > .tl-comment:first-child .tl-replies .tl-comment').length`
	if n := run(t, b, chromedp.Evaluate[int](replies)); n != 1 {
		t.Fatalf("the first comment shows %d replies, want 1", n)
	}
	toggle := chromedp.CSS(`.tl-list > .tl-comment:first-child .tl-toggle`)
	if err := chromedp.Do(b, chromedp.Click(toggle)); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](replies+` === 0`, chromedp.WithPollingTimeout(5*time.Second)))
	expanded := run(t, b, chromedp.AttributeValue(toggle, "aria-expanded"))
	if expanded.Value != "false" {
		t.Errorf("collapsed toggle has aria-expanded=%q", expanded.Value)
	}
	if err := chromedp.Do(b, chromedp.Click(toggle)); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](replies+` === 1`, chromedp.WithPollingTimeout(5*time.Second)))
}

// TestEmbedResizesAndIgnoresForeignMessages loads the publisher's page: embed.js puts the thread in an iframe
// on the Threadline origin and sizes it from the frame's messages, and only from them.
func TestEmbedResizesAndIgnoresForeignMessages(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(s.demo+"/")); err != nil {
		t.Fatal(err)
	}
	const height = `document.querySelector('#threadline iframe').getBoundingClientRect().height`
	h := run(t, b, chromedp.Poll[float64](height+` > 2000 ? `+height+` : 0`, chromedp.WithPollingTimeout(30*time.Second)))
	src := run(t, b, chromedp.Evaluate[string](`document.querySelector('#threadline iframe').src`))
	if !strings.HasPrefix(src, s.api+"/embed/thread?") {
		t.Errorf("iframe src %q is not on the Threadline origin", src)
	}
	// A message from the page itself (or any origin but Threadline's) must not move the frame.
	run(t, b, chromedp.Evaluate[bool](`window.postMessage({type: "threadline:resize", height: 17}, "*"), true`))
	if err := chromedp.Do(b, chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if after := run(t, b, chromedp.Evaluate[float64](height)); after != h {
		t.Errorf("a foreign message resized the frame from %v to %v", h, after)
	}
}

// TestReplyAndLikeSurviveAReload signs a new reader in through the widget (a name, nothing else), posts a
// reply under the second comment and likes the first, then reloads: the reply is in place, the like counts
// once and shows as the reader's.
func TestReplyAndLikeSurviveAReload(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)

	const second = `.tl-list > .tl-comment:nth-child(2)`
	const reply = "Replying *from the widget*, with Markdown."
	if err := chromedp.Do(b,
		chromedp.Click(chromedp.CSS(second+` .tl-actions button:nth-of-type(2)`)), // Reply
		chromedp.WaitVisible(chromedp.CSS(second+` .tl-composer .tl-name`)),
		chromedp.SendKeys(chromedp.CSS(second+` .tl-composer .tl-name`), "Widget Reader"),
		chromedp.SendKeys(chromedp.CSS(second+` .tl-composer .tl-text`), reply),
		chromedp.Click(chromedp.CSS(second+` .tl-composer .tl-send`)),
	); err != nil {
		t.Fatal(err)
	}
	const replyHTML = second + ` .tl-replies .tl-comment .tl-body`
	got := run(t, b, chromedp.Poll[string](`(document.querySelector('`+replyHTML+`') || {}).innerHTML || ""`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if got != "<p>Replying <em>from the widget</em>, with Markdown.</p>" {
		t.Errorf("the reply shows as %q", got)
	}

	const first = `.tl-list > .tl-comment:first-child .tl-like`
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(first))); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](`document.querySelector('`+first+`').getAttribute('aria-pressed') === 'true'`,
		chromedp.WithPollingTimeout(5*time.Second)))
	// The like is on the server before the reload.
	for deadline := time.Now().Add(5 * time.Second); s.likesOfFirst(t) != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the like did not reach the server: %d likes", s.likesOfFirst(t))
		}
	}

	if err := chromedp.Do(b, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
	author := run(t, b, chromedp.Poll[string](`(document.querySelector('`+second+` .tl-replies .tl-author') || {}).textContent || ""`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if author != "Widget Reader" {
		t.Errorf("after a reload the reply's author is %q", author)
	}
	pressed := run(t, b, chromedp.Poll[string](`document.querySelector('`+first+`').getAttribute('aria-pressed') === 'true' ? document.querySelector('`+first+`').textContent : ""`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if pressed != "♥ 1" {
		t.Errorf("after a reload the liked comment shows %q, want ♥ 1 and pressed", pressed)
	}
	if n := s.likesOfFirst(t); n != 1 {
		t.Errorf("the server counts %d likes, want 1", n)
	}
}

// likesOfFirst returns the like count of the sample's first comment.
func (s *site) likesOfFirst(t *testing.T) int {
	t.Helper()
	page, err := s.svc.TopLevelComments(context.Background(), 1, thread.PageRequest{Order: thread.OrderOldest, First: 1})
	if err != nil || len(page.Comments) != 1 {
		t.Fatalf("first comment: %v", err)
	}
	return page.Comments[0].LikeCount
}

// TestAccessibility runs axe-core on the thread page, before and after the WebAssembly takes over, light and
// dark, and with a reply composer open: no serious or critical violation.
// checkAccessible runs axe-core on the page in the browser and fails the test for each serious or critical
// violation; name says which state of the page it was.
func checkAccessible(t *testing.T, b context.Context, name string) {
	t.Helper()
	axe, err := os.ReadFile(filepath.Join("..", "tools", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing: run `make test` (or `npm ci --prefix tools/axe`): %v", err)
	}
	run(t, b, chromedp.Evaluate[bool](string(axe)+";true"))
	type violation struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []string }
	}
	found := run(t, b, chromedp.Evaluate[[]violation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical"))`,
		chromedp.EvalAwaitPromise))
	for _, v := range found {
		t.Errorf("%s: %s (%s): %s, at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

func TestAccessibility(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	check := func(name string) { t.Helper(); checkAccessible(t, b, name) }
	for _, theme := range []string{"light", "dark"} {
		if err := chromedp.Do(b, chromedp.Navigate(s.threadURL()+"&theme="+theme)); err != nil {
			t.Fatal(err)
		}
		check(theme + ", prerendered")
		run(t, b, takenOver)
		check(theme + ", after the takeover")
	}
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`.tl-list > .tl-comment:first-child .tl-actions button:nth-of-type(2)`))); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](`document.querySelector('.tl-list .tl-composer') !== null`, chromedp.WithPollingTimeout(5*time.Second)))
	check("reply composer open")
}

// TestPermalinkOpensAtItsComment opens the publisher's page at a comment's permalink: the widget marks the
// comment, and the page scrolls to it.
func TestPermalinkOpensAtItsComment(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	const target = "Q29tbWVudDoxNQ" // the sample's 15th comment, on the first page
	if err := chromedp.Do(b, chromedp.EmulateViewport(1024, 768), chromedp.Navigate(s.demo+"/#comment-"+target)); err != nil {
		t.Fatal(err)
	}
	src := run(t, b, chromedp.Poll[string](`(document.querySelector('#threadline iframe') || {}).src || ""`, chromedp.WithPollingTimeout(10*time.Second)))
	if !strings.HasSuffix(src, "#comment-"+target) {
		t.Fatalf("the iframe was not given the permalink: %q", src)
	}
	// The page scrolls so that the comment, deep in the thread, is in view.
	run(t, b, chromedp.Poll[bool](`window.scrollY > 1500`, chromedp.WithPollingTimeout(30*time.Second)))

	// In the frame itself, the comment is marked; one beyond the first page is loaded first.
	for _, id := range []string{target, "Q29tbWVudDozMA" /* the 30th, on the second page */} {
		// A query of its own makes each visit a new document, not a jump within the last one.
		if err := chromedp.Do(b, chromedp.Navigate(s.threadURL()+"&visit="+id+"#comment-"+id), chromedp.WaitReady(chromedp.CSS("#threadline"))); err != nil {
			t.Fatal(err)
		}
		run(t, b, chromedp.Poll[bool](`document.querySelector('#comment-`+id+`.tl-target') !== null`, chromedp.WithPollingTimeout(30*time.Second)))
	}

	// On the publisher's page (whose sample article has no stored URL: the page that frames the thread vouches
	// for its address), a comment's Link goes to the page at the comment, and opens it in the same tab.
	if err := chromedp.Do(b, chromedp.Navigate(s.demo+"/")); err != nil {
		t.Fatal(err)
	}
	var link struct {
		Href                string
		X, Y, Width, Height float64
	}
	for deadline := time.Now().Add(30 * time.Second); link.Href == ""; time.Sleep(100 * time.Millisecond) {
		inFrame(t, b, `(() => { const a = document.querySelector("#comment-`+target+` .tl-link");
		  if (!a || !document.querySelector('#threadline[data-source="client"]:not([data-live="off"])')) return {};
		  const r = a.getBoundingClientRect(); return {href: a.href, x: r.x, y: r.y, width: r.width, height: r.height} })()`, &link)
		if time.Now().After(deadline) {
			t.Fatal("the demo page's thread shows no Link")
		}
	}
	if want := s.demo + "/#comment-" + target; link.Href != want {
		t.Fatalf("the Link goes to %q, want %q", link.Href, want)
	}
	// A reader's click (a click by script may not navigate the top window from a frame of another origin).
	frame := run(t, b, chromedp.Evaluate[float64](`(() => { const f = document.querySelector("#threadline iframe");
	  window.scrollTo(0, f.getBoundingClientRect().top + window.scrollY + `+fmt.Sprint(link.Y)+` - 200);
	  return f.getBoundingClientRect().top })()`))
	frameLeft := run(t, b, chromedp.Evaluate[float64](`document.querySelector("#threadline iframe").getBoundingClientRect().left`))
	if err := chromedp.Do(b, chromedp.MouseClickXY(frameLeft+link.X+link.Width/2, frame+link.Y+link.Height/2)); err != nil {
		t.Fatal(err)
	}
	acrossNavigation(t, b, `location.href === "`+s.demo+`/#comment-`+target+`"`, 10*time.Second)
}

// acrossNavigation waits until expr is true in the tab's page, whatever page that is by then: unlike Poll, it
// survives the navigation it waits for.
func acrossNavigation(t *testing.T, ctx context.Context, expr string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become true in %v", expr, timeout)
		}
	}
}

// TestTakeoverMovesNothing compares where the first comment is before and after the WebAssembly replaces the
// prerendered page: a reader must not see the thread jump.
func TestTakeoverMovesNothing(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	const record = `document.addEventListener("DOMContentLoaded", () => {
	  window.__before = document.querySelector(".tl-list > .tl-comment").getBoundingClientRect().top; });`
	if _, err := chromedp.Call(b, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: record}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
	moved := run(t, b, chromedp.Evaluate[float64](`document.querySelector(".tl-list > .tl-comment").getBoundingClientRect().top - window.__before`))
	if moved != 0 {
		t.Errorf("the first comment moved %v px when the WebAssembly took over", moved)
	}
}

// TestComposerKeepsTextAndOwnCommentsCanBeEditedAndDeleted: a refused post keeps what was typed and says why
// next to it; then the reader posts, edits and deletes their comment.
func TestComposerKeepsTextAndOwnCommentsCanBeEditedAndDeleted(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
	const top = `#tl-compose-top`
	// No name yet: the post is refused before it leaves, and the text stays.
	if err := chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS(top+` .tl-text`), "My first comment"),
		chromedp.Click(chromedp.CSS(top+` .tl-send`)),
	); err != nil {
		t.Fatal(err)
	}
	alert := run(t, b, chromedp.Poll[string](`(document.querySelector('`+top+` [role="alert"]') || {}).textContent || ""`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if !strings.Contains(alert, "name") {
		t.Errorf("the refusal says %q", alert)
	}
	if text := run(t, b, chromedp.Evaluate[string](`document.querySelector('`+top+` .tl-text').value`)); text != "My first comment" {
		t.Errorf("the composer lost the text: %q", text)
	}
	// With a name, it is posted and shown first.
	if err := chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS(top+` .tl-name`), "Editor"),
		chromedp.Click(chromedp.CSS(top+` .tl-send`)),
	); err != nil {
		t.Fatal(err)
	}
	const mine = `.tl-list > .tl-comment:first-child`
	run(t, b, chromedp.Poll[bool](`(document.querySelector('`+mine+` .tl-body') || {}).textContent === "My first comment"`,
		chromedp.WithPollingTimeout(10*time.Second)))
	// Edit: the composer opens with the Markdown, the change shows, marked as edited.
	// Live events about the reader's own comment redraw it: a click by script finds the button as it is now.
	jsClick(t, b, mine+` .tl-actions button:nth-of-type(3)`)
	const edit = mine + ` .tl-composer .tl-text`
	run(t, b, chromedp.Poll[bool](`(document.querySelector('`+edit+`') || {}).value === "My first comment"`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err := chromedp.Do(b, chromedp.SendKeys(chromedp.CSS(edit), ", **edited**")); err != nil {
		t.Fatal(err)
	}
	jsClick(t, b, mine+` .tl-composer .tl-send`)
	run(t, b, chromedp.Poll[bool](`(document.querySelector('`+mine+` .tl-body') || {}).innerHTML === "<p>My first comment, <strong>edited</strong></p>" && document.querySelector('`+mine+` .tl-edited') !== null`,
		chromedp.WithPollingTimeout(10*time.Second)))
	// Delete, confirmed: it leaves the page, and the count goes back to 45.
	run(t, b, chromedp.Evaluate[bool](`window.confirm = () => true; true`))
	jsClick(t, b, mine+` .tl-actions button:nth-of-type(4)`)
	run(t, b, chromedp.Poll[bool](`document.querySelector('.tl-count').textContent === "45 comments" && !document.body.textContent.includes("My first comment")`,
		chromedp.WithPollingTimeout(10*time.Second)))
}

// TestKeyboardAlone sorts the thread with the keyboard only: Tab reaches the sort buttons, focus is visible,
// and Enter works.
func TestKeyboardAlone(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
	const onNewest = `document.activeElement && document.activeElement.dataset.order === "NEWEST"`
	for i := 0; !run(t, b, chromedp.Evaluate[bool](onNewest)); i++ {
		if i == 10 {
			t.Fatal("ten Tabs did not reach the Newest button")
		}
		if err := chromedp.Do(b, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
	}
	if outline := run(t, b, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`)); outline == "none" {
		t.Error("the focused button shows no focus outline")
	}
	if err := chromedp.Do(b, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](`document.querySelector('.tl-sort-btn[data-order="NEWEST"]').getAttribute("aria-pressed") === "true"`,
		chromedp.WithPollingTimeout(10*time.Second)))
}

// TestHostileTextStaysText posts comments and a display name made of classic XSS payloads: in the widget,
// prerendered and after the takeover, nothing of them runs, and the name shows as the text it is.
func TestHostileTextStaysText(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	const name = `<img src=x onerror="window.__xss='name'">`
	reader, _, err := s.svc.CreateReader(ctx, "demo", name)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.svc.TopLevelComments(ctx, 1, thread.PageRequest{Order: thread.OrderOldest, First: 1})
	if err != nil {
		t.Fatal(err)
	}
	as := thread.WithViewer(ctx, reader)
	for _, body := range []string{
		`<script>window.__xss='script'</script>`,
		`<img src=x onerror="window.__xss='img'">`,
		`[click](javascript:window.__xss='link')`,
		`<svg onload="window.__xss='svg'"></svg> "><script>window.__xss='attr'</script>`,
		`<iframe src="javascript:parent.__xss='iframe'"></iframe> <a href="jav&#x09;ascript:window.__xss='entity'">x</a>`,
	} {
		if _, err := s.svc.AddComment(as, thread.NewComment{ArticleID: first.Comments[0].ArticleID, ParentID: first.Comments[0].ID, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	// Names and bodies in a right-to-left script, or with a directional override left open, as a reply under
	// the second comment: they must not reorder the widget's text around them (see checkIsolated).
	second, err := s.svc.TopLevelComments(ctx, 1, thread.PageRequest{Order: thread.OrderOldest, First: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, bidi := range []struct{ name, body string }{
		{"Admin\u202E (moderator)", "\u202Ethe rest of the page reads backwards"},
		{"מנהל האתר", "שלום, this is mixed text"},
	} {
		r, _, err := s.svc.CreateReader(ctx, "demo", bidi.name)
		if err != nil { // a name cleaned of its controls on input is fine too; the body keeps them
			if r, _, err = s.svc.CreateReader(ctx, "demo", "Admin (moderator)"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.svc.AddComment(thread.WithViewer(ctx, r), thread.NewComment{ArticleID: second.Comments[1].ArticleID, ParentID: second.Comments[1].ID, Body: bidi.body}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	const ran = `window.__xss === undefined ? "" : String(window.__xss)`
	if got := run(t, b, chromedp.Evaluate[string](ran)); got != "" {
		t.Errorf("prerendered: the %s payload ran", got)
	}
	checkIsolated(t, b, "prerendered")
	run(t, b, takenOver)
	checkIsolated(t, b, "after the takeover")
	// Show every reply, and follow the one link a payload could have made.
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`.tl-list > .tl-comment:first-child .tl-more-replies`))); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Poll[bool](`document.querySelectorAll('.tl-list > .tl-comment:first-child .tl-replies .tl-comment').length === 5`,
		chromedp.WithPollingTimeout(10*time.Second)))
	run(t, b, chromedp.Evaluate[bool](`document.querySelectorAll('.tl-body a').forEach(a => a.click()); true`))
	if err := chromedp.Do(b, chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got := run(t, b, chromedp.Evaluate[string](ran)); got != "" {
		t.Errorf("after the takeover: the %s payload ran", got)
	}
	shown := run(t, b, chromedp.Evaluate[string](`document.querySelector('.tl-replies .tl-author').textContent`))
	if shown != name {
		t.Errorf("the display name shows as %q, want the text %q", shown, name)
	}
}

// checkIsolated checks in the browser that every name and every comment body on the page is laid out in a
// bidirectional isolate (dir="auto" or <bdi>), which nothing in it can leak out of, and that a right-to-left
// name takes its direction from its own text while the line it is on stays left-to-right.
func checkIsolated(t *testing.T, b context.Context, when string) {
	t.Helper()
	type isolation struct {
		Leaky   []string `json:"leaky"`
		Names   int      `json:"names"`
		RTLName string   `json:"rtlName"`
		Row     string   `json:"row"`
	}
	got := run(t, b, chromedp.Evaluate[isolation](`(() => {
	  const els = [...document.querySelectorAll(".tl-author, .tl-body, bdi")];
	  const rtl = els.find(e => e.classList.contains("tl-author") && e.textContent.startsWith("מנהל"));
	  return {
	    leaky: els.filter(e => getComputedStyle(e).unicodeBidi !== "isolate").map(e => e.className + ": " + e.textContent.slice(0, 30)),
	    names: document.querySelectorAll(".tl-author").length,
	    rtlName: rtl ? getComputedStyle(rtl).direction : "",
	    row: rtl ? getComputedStyle(rtl.parentElement).direction : "",
	  };
	})()`))
	if len(got.Leaky) > 0 || got.Names == 0 {
		t.Errorf("%s: %d names; not isolated: %q", when, got.Names, got.Leaky)
	}
	if got.RTLName != "rtl" || got.Row != "ltr" {
		t.Errorf("%s: the right-to-left name is laid out %q in a %q line, want rtl in ltr", when, got.RTLName, got.Row)
	}
}

// TestCountScriptFillsAListingPage: a publisher's listing page with count.js shows each article's count.
func TestCountScriptFillsAListingPage(t *testing.T) {
	s := newSite(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><ul>
<li>Social credit <span id="a" data-threadline-count="social-credit">…</span></li>
<li>Again <span id="b" data-threadline-count="social-credit">…</span></li>
<li>New <span id="c" data-threadline-count="no-thread-yet" data-threadline-zero="Be the first">…</span></li>
</ul><script src="`+s.api+`/count.js" data-site="demo" async></script>`)
	}))
	t.Cleanup(page.Close)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(page.URL)); err != nil {
		t.Fatal(err)
	}
	got := run(t, b, chromedp.Poll[string](`document.getElementById("c").textContent !== "…" ?
		[...document.querySelectorAll("span")].map(s => s.textContent).join("|") : ""`, chromedp.WithPollingTimeout(10*time.Second)))
	if got != "45 comments|45 comments|Be the first" {
		t.Errorf("the listing shows %q", got)
	}
}

// jsClick clicks the element css matches when the click runs, for elements a live event may redraw between
// finding them and clicking them.
func jsClick(t *testing.T, b context.Context, css string) {
	t.Helper()
	run(t, b, chromedp.Poll[bool](`(() => { const el = document.querySelector(`+jsString(css)+`); if (!el) return false; el.click(); return true })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
}
