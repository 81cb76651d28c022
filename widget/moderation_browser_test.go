package widget_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/golang-jwt/jwt/v5"

	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/thread"
)

// signingSecret gives the demo site a signing secret, as its owner does with `threadline site rotate-secret`.
func (s *site) signingSecret(t *testing.T) string {
	t.Helper()
	secret, err := s.svc.RotateSecret(context.Background(), seed.SiteSlug)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// signedIn signs a user of the demo site in as its own accounts would, and returns the Threadline session.
func (s *site) signedIn(t *testing.T, secret, sub, name string, moderator bool) (string, *thread.Reader) {
	t.Helper()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "name": name, "moderator": moderator, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	r, session, _, err := s.svc.SignIn(context.Background(), seed.SiteSlug, token)
	if err != nil {
		t.Fatal(err)
	}
	return session, r
}

// openAs opens the thread in a new browser whose widget holds the session token, as it would after a sign-in.
func (s *site) openAs(t *testing.T, token string) context.Context {
	t.Helper()
	b := newBrowser(t)
	s.openIn(t, b, token)
	return b
}

// openIn opens the thread in browser b, whose widget holds token, and waits for the WebAssembly to take over.
func (s *site) openIn(t *testing.T, b context.Context, token string) {
	t.Helper()
	if err := chromedp.Do(b, chromedp.Navigate(s.api+"/healthz")); err != nil {
		t.Fatal(err)
	}
	run(t, b, chromedp.Evaluate[bool](`localStorage.setItem("threadline:demo:token", `+jsString(token)+`), true`))
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// waitText waits until the element matched by css contains want.
func waitText(t *testing.T, b context.Context, css, want string) {
	t.Helper()
	_, err := chromedp.Run(b, chromedp.Poll[bool](`(document.querySelector(`+jsString(css)+`) || {textContent: ""}).textContent.includes(`+jsString(want)+`)`,
		chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		page, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector("#threadline").innerText.slice(0, 3000)`))
		t.Fatalf("%s never said %q: %v\nthe widget says:\n%s", css, want, err, page)
	}
}

// typeInto replaces the text of a field the way a reader types it.
func typeInto(t *testing.T, b context.Context, css, text string) {
	t.Helper()
	if err := chromedp.Do(b, chromedp.WaitVisible(chromedp.CSS(css)), chromedp.SendKeys(chromedp.CSS(css), text)); err != nil {
		t.Fatal(err)
	}
}

func click(t *testing.T, b context.Context, css string) {
	t.Helper()
	if err := chromedp.Do(b, chromedp.WaitVisible(chromedp.CSS(css)), chromedp.Click(chromedp.CSS(css))); err != nil {
		t.Fatal(err)
	}
}

// TestModeratorRemovesAuthorAppealsModeratorAnswers plays the whole accountable-moderation story in two
// browsers: a moderator removes a comment citing a rule, with a note; its author sees the rule and the note
// and appeals; the moderator answers from the queue; the author sees the answer. The note, the appeal and the
// answer carry script payloads: none runs, each shows as the text it is.
func TestModeratorRemovesAuthorAppealsModeratorAnswers(t *testing.T) {
	s := newSite(t)
	secret := s.signingSecret(t)
	authorToken, author := s.signedIn(t, secret, "ada", "Ada", false)
	moderatorToken, _ := s.signedIn(t, secret, "sam", "Sam", true)
	article, err := s.svc.Article(context.Background(), seed.SiteSlug, seed.ArticleKey)
	if err != nil {
		t.Fatal(err)
	}
	const body = "Somebody should smash every camera on this street."
	if _, err := s.svc.AddComment(thread.WithViewer(context.Background(), author), thread.NewComment{ArticleID: article.ID, Body: body}); err != nil {
		t.Fatal(err)
	}
	const (
		note   = `Say it without the threat. <img src=x onerror="window.__xss='note'">`
		appeal = `It was a figure of speech. <script>window.__xss='appeal'</script>`
		answer = `It reads as a call to damage. <svg onload="window.__xss='answer'">`
		ran    = `window.__xss === undefined ? "" : String(window.__xss)`
	)

	// The moderator finds the comment (newest first) and removes it, citing a rule, with a note.
	mod := s.openAs(t, moderatorToken)
	waitText(t, mod, ".tl-queue h2", "Moderation")
	click(t, mod, `.tl-sort-btn[data-order="NEWEST"]`)
	const first = ".tl-list > .tl-comment:first-child"
	waitText(t, mod, first+" .tl-body", body)
	click(t, mod, first+" .tl-mod")
	if err := chromedp.Do(mod, chromedp.WaitVisible(chromedp.CSS(first+" .tl-select"))); err != nil {
		t.Fatal(err)
	}
	run(t, mod, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('`+first+` .tl-select'); s.value = "Threat of violence";
		s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`))
	typeInto(t, mod, first+" .tl-modform .tl-text", note)
	click(t, mod, first+" .tl-modform .tl-send")
	waitText(t, mod, first+" .tl-removed", "Removed by a moderator: Threat of violence.")

	// The author sees the rule and the note, and appeals.
	ada := s.openAs(t, authorToken)
	waitText(t, ada, ".tl-mine .tl-modnote", "A moderator removed your comment: Threat of violence.")
	waitText(t, ada, ".tl-mine .tl-modnote", "The moderator's note: "+note)
	click(t, ada, ".tl-mine .tl-modnote button")
	typeInto(t, ada, ".tl-mine .tl-modform .tl-text", appeal)
	click(t, ada, ".tl-mine .tl-modform .tl-send")
	waitText(t, ada, ".tl-mine .tl-modnote", "You appealed: “"+appeal+"”")
	checkAccessible(t, ada, "the author's view of a removed comment")

	// The moderator answers from the queue, keeping the decision.
	if err := chromedp.Do(mod, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	run(t, mod, takenOver)
	waitText(t, mod, ".tl-queue", "the author appeals: “"+appeal+"”")
	checkAccessible(t, mod, "the moderator's queue with an appeal to answer")
	typeInto(t, mod, ".tl-queue .tl-modform .tl-text", answer)
	click(t, mod, ".tl-queue .tl-modform .tl-send") // Keep the decision
	waitText(t, mod, ".tl-queue h2", "Moderation: 0 comments waiting")

	// The author sees the answer.
	if err := chromedp.Do(ada, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	run(t, ada, takenOver)
	waitText(t, ada, ".tl-mine .tl-answer", "A moderator answered your appeal and kept the decision: "+answer)

	for name, b := range map[string]context.Context{"moderator": mod, "author": ada} {
		if got := run(t, b, chromedp.Evaluate[string](ran)); got != "" {
			t.Errorf("in the %s's widget the %s payload ran", name, got)
		}
	}
	// Everyone else sees the placeholder and the rule, and nothing of the text.
	guest := newBrowser(t)
	if err := chromedp.Do(guest, chromedp.Navigate(s.threadURL())); err != nil {
		t.Fatal(err)
	}
	run(t, guest, takenOver)
	click(t, guest, `.tl-sort-btn[data-order="NEWEST"]`)
	waitText(t, guest, first+" .tl-removed", "Removed by a moderator: Threat of violence.")
	if text := run(t, guest, chromedp.Evaluate[string](`document.body.textContent`)); strings.Contains(text, body) || strings.Contains(text, "Say it without") {
		t.Error("a guest sees the removed comment's text or the moderator's note")
	}
}

// TestHostPageSignsTheReaderIn loads the demo publisher's page as its moderator: embed.js hands the page's
// token to the widget, which signs in; the token never appears in the frame's address.
func TestHostPageSignsTheReaderIn(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(s.demo+"/?as=moderator")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := s.db.ReaderBySSOSubject(context.Background(), 1, "demo-moderator")
		if err == nil {
			if r.DisplayName != "Sam (a moderator)" {
				t.Errorf("signed in as %q", r.DisplayName)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the widget never signed the page's moderator in")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if src := run(t, b, chromedp.Evaluate[string](`document.querySelector('#threadline iframe').src`)); strings.Contains(src, "ey") && strings.Contains(src, "sso") {
		t.Errorf("the sign-in token is in the frame's address: %s", src)
	}
	// The frame grows by the moderator's queue once the WebAssembly signs in: its height is reported again.
	const height = `document.querySelector('#threadline iframe').getBoundingClientRect().height`
	run(t, b, chromedp.Poll[bool](height+` > 2000`, chromedp.WithPollingTimeout(30*time.Second)))
}

// TestModerationByKeyboard removes a comment with the keyboard alone: Tab reaches the comment's Remove button,
// Enter opens the form, the rule and the note are chosen by keys, and Enter on Remove removes it.
func TestModerationByKeyboard(t *testing.T) {
	s := newSite(t)
	secret := s.signingSecret(t)
	token, _ := s.signedIn(t, secret, "sam", "Sam", true)
	b := s.openAs(t, token)
	waitText(t, b, ".tl-queue h2", "Moderation")
	const first = ".tl-list > .tl-comment:first-child"
	press := func(key string) {
		t.Helper()
		if err := chromedp.Do(b, chromedp.KeyEvent(key)); err != nil {
			t.Fatal(err)
		}
	}
	tabTo := func(js string) {
		t.Helper()
		for i := 0; !run(t, b, chromedp.Evaluate[bool](js)); i++ {
			if i == 60 {
				t.Fatalf("60 Tabs did not reach %s; focus is on %s; the first comment: %s", js,
					run(t, b, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 200)`)),
					run(t, b, chromedp.Evaluate[string](`document.querySelector('`+first+`').outerHTML.slice(-900)`)))
			}
			press(kb.Tab)
		}
	}
	tabTo(`document.activeElement === document.querySelector('` + first + ` .tl-mod')`)
	press(kb.Enter)
	if err := chromedp.Do(b, chromedp.WaitVisible(chromedp.CSS(first+" .tl-select"))); err != nil { // as a person waits for it
		t.Fatal(err)
	}
	tabTo(`document.activeElement === document.querySelector('` + first + ` .tl-select')`)
	press(kb.ArrowDown) // the second rule: Harassment
	tabTo(`document.activeElement === document.querySelector('` + first + ` .tl-modform .tl-text')`)
	if err := chromedp.Do(b, chromedp.KeyEvent("Please keep it civil.")); err != nil {
		t.Fatal(err)
	}
	tabTo(`document.activeElement === document.querySelector('` + first + ` .tl-modform .tl-send')`)
	press(kb.Enter)
	waitText(t, b, first+" .tl-removed", "Removed by a moderator: Harassment.")

	// The moderator's view, in the dark theme too, passes axe.
	if err := chromedp.Do(b, chromedp.Navigate(s.threadURL()+"&theme=dark")); err != nil {
		t.Fatal(err)
	}
	run(t, b, takenOver)
	waitText(t, b, ".tl-queue h2", "Moderation")
	click(t, b, first+" .tl-mod")
	checkAccessible(t, b, "the moderator's view, dark, with the remove form open")
}
