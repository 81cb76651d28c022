package markdown

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

type renderCase struct {
	name string
	in   string
	// want, if set, is the exact expected output.
	want string
	// contains and absent are checked when set.
	contains []string
	absent   []string
}

// formattingCases cover the ordinary things readers write.
var formattingCases = []renderCase{
	{name: "empty", in: "", want: ""},
	{name: "whitespace only", in: " \n\t\n", want: ""},
	{name: "paragraph", in: "hello world", want: "<p>hello world</p>"},
	{name: "two paragraphs", in: "one\n\ntwo", want: "<p>one</p>\n<p>two</p>"},
	{name: "hard wrap", in: "a\nb", want: "<p>a<br>\nb</p>"},
	{name: "hard wraps keep every line", in: "Dear author,\nthanks!\n-- me", want: "<p>Dear author,<br>\nthanks!<br>\n-- me</p>"},
	{name: "bold", in: "**bold**", want: "<p><strong>bold</strong></p>"},
	{name: "emphasis", in: "*em* and _em_", want: "<p><em>em</em> and <em>em</em></p>"},
	{name: "strikethrough", in: "~~del~~", want: "<p><del>del</del></p>"},
	{name: "inline code escapes html", in: "use `<b>` here", want: "<p>use <code>&lt;b&gt;</code> here</p>"},
	{
		name: "fenced code escapes html",
		in:   "```html\n<script>alert(1)</script>\n```",
		want: "<pre><code class=\"language-html\">&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>",
	},
	{name: "fence info cannot inject a class", in: "```x\" onclick=\"y\ncode\n```", absent: []string{"onclick", "class"}},
	{name: "indented code", in: "    x := <-ch", want: "<pre><code>x := &lt;-ch\n</code></pre>"},
	{name: "bullet list", in: "- a\n- b", want: "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"},
	{name: "ordered list", in: "1. a\n2. b", want: "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"},
	{name: "ordered list start", in: "3. a\n4. b", want: "<ol start=\"3\">\n<li>a</li>\n<li>b</li>\n</ol>"},
	{name: "blockquote", in: "> quoted\n> text", want: "<blockquote>\n<p>quoted<br>\ntext</p>\n</blockquote>"},
	{name: "thematic break", in: "a\n\n***\n\nb", want: "<p>a</p>\n<hr>\n<p>b</p>"},
	{name: "atx heading is strong", in: "# Title\ntext", want: "<p><strong>Title</strong></p>\n<p>text</p>"},
	{name: "deep heading is strong", in: "###### *small*", want: "<p><strong><em>small</em></strong></p>"},
	{name: "setext heading is strong", in: "Title\n=====", want: "<p><strong>Title</strong></p>"},
	{name: "lone hash", in: "#", want: ""},
	{name: "hashtag is text", in: "#threadline", want: "<p>#threadline</p>"},
	{name: "unbalanced emphasis stays literal", in: "**this might depend", want: "<p>**this might depend</p>"},
	{name: "cyrillic", in: "Привет, мир! Ёжик.", want: "<p>Привет, мир! Ёжик.</p>"},
	{name: "emoji", in: "👍🏽 🇺🇦 👨‍👩‍👧", want: "<p>👍🏽 🇺🇦 👨‍👩‍👧</p>"},
	{name: "crlf line breaks", in: "a\r\nb\r\n\r\nc", want: "<p>a<br>\nb</p>\n<p>c</p>"},
	{name: "lone cr line break", in: "a\rb", want: "<p>a<br>\nb</p>"},
	{name: "invalid utf-8 is replaced", in: "a\xffb", want: "<p>a\uFFFDb</p>"},
	{name: "entities are shown", in: "AT&T &lt;3", want: "<p>AT&amp;T &lt;3</p>"},
	{name: "raw html is escaped text", in: "<b>hi</b>", want: "<p>&lt;b&gt;hi&lt;/b&gt;</p>"},
	{
		name: "html block is escaped text, markdown inside still works",
		in:   "<div>\n*x*\n</div>",
		want: "<p>&lt;div&gt;<br>\n<em>x</em><br>\n&lt;/div&gt;</p>",
	},
	{name: "html comment is escaped text", in: "<!-- hi -->", want: "<p>&lt;!-- hi --&gt;</p>"},
}

// linkCases cover links, linkify and images.
var linkCases = []renderCase{
	{
		name: "link",
		in:   "[x](https://e.com)",
		want: `<p><a href="https://e.com" rel="nofollow ugc noopener">x</a></p>`,
	},
	{
		name: "link with title",
		in:   `[x](https://e.com "T")`,
		want: `<p><a href="https://e.com" title="T" rel="nofollow ugc noopener">x</a></p>`,
	},
	{
		name: "mailto link is only its text", // only http(s) URLs become links
		in:   "[mail](mailto:a@e.com)",
		want: `<p>mail</p>`,
	},
	{
		name: "reference link",
		in:   "[x][r]\n\n[r]: http://e.com/a?b=1&c=2",
		want: `<p><a href="http://e.com/a?b=1&amp;c=2" rel="nofollow ugc noopener">x</a></p>`,
	},
	{
		name: "bare url is linkified",
		in:   "see https://example.com/a?b=1.",
		want: `<p>see <a href="https://example.com/a?b=1" rel="nofollow ugc noopener">https://example.com/a?b=1</a>.</p>`,
	},
	{
		name: "www is linkified as http",
		in:   "www.example.com",
		want: `<p><a href="http://www.example.com" rel="nofollow ugc noopener">www.example.com</a></p>`,
	},
	{
		name: "email stays text",
		in:   "write to me@example.com or <you@example.com>",
		want: `<p>write to me@example.com or you@example.com</p>`,
	},
	{
		name: "autolink",
		in:   "<https://e.com/x>",
		want: `<p><a href="https://e.com/x" rel="nofollow ugc noopener">https://e.com/x</a></p>`,
	},
	{name: "ftp is not linkified", in: "ftp://e.com/f", want: "<p>ftp://e.com/f</p>"},
	{name: "relative link is text", in: "[x](/admin)", want: "<p>x</p>"},
	{name: "fragment link is text", in: "[x](#top)", want: "<p>x</p>"},
	{name: "scheme-less http is text", in: "[x](http:evil)", want: "<p>x</p>"},
	{name: "unparseable url is text", in: "[x](http://[::1)", want: "<p>x</p>"},
	{name: "javascript link is text", in: "[x](javascript:alert(1))", want: "<p>x</p>"},
	{
		name: "image becomes a link",
		in:   "![alt](https://tracker.example/p.png)",
		want: `<p><a href="https://tracker.example/p.png" rel="nofollow ugc noopener">alt</a></p>`,
	},
	{
		name: "image alt keeps its emphasis",
		in:   `![an *alt*](https://tracker.example/p.png "T")`,
		want: `<p><a href="https://tracker.example/p.png" title="T" rel="nofollow ugc noopener">an <em>alt</em></a></p>`,
	},
	{
		name: "image without alt shows its url",
		in:   "![](https://tracker.example/p.png)",
		want: `<p><a href="https://tracker.example/p.png" rel="nofollow ugc noopener">https://tracker.example/p.png</a></p>`,
	},
	{name: "image with data url is its alt text", in: "![pic](data:image/png;base64,iVBORw0KGgo=)", want: "<p>pic</p>"},
	{
		name: "linked image does not nest anchors",
		in:   "[![badge](https://img.example/b.svg)](https://e.com)",
		want: `<p><a href="https://e.com" rel="nofollow ugc noopener">badge</a></p>`,
	},
	{
		name: "link inside image alt does not nest anchors",
		in:   "![see [x](https://a.example)](https://img.example/p.png)",
		want: `<p><a href="https://img.example/p.png" rel="nofollow ugc noopener">see x</a></p>`,
	},
	{
		name: "autolink inside link does not nest anchors",
		in:   "[go <https://a.example>](https://b.example)",
		want: `<p><a href="https://b.example" rel="nofollow ugc noopener">go https://a.example</a></p>`,
	},
}

// xssCases are classic payloads (OWASP XSS filter evasion cheat sheet
// style). Besides the per-case expectations, every output must pass
// checkSafe.
var xssCases = []renderCase{
	{name: "script tag", in: "<script>alert(1)</script>", want: "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"},
	{name: "img onerror", in: "<img src=x onerror=alert(1)>", want: "<p>&lt;img src=x onerror=alert(1)&gt;</p>"},
	{name: "svg onload", in: "<svg onload=alert(1)>", want: "<p>&lt;svg onload=alert(1)&gt;</p>"},
	{name: "attribute breakout", in: `"><script>alert(1)</script>`, want: "<p>&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>"},
	{name: "a href with tab entity", in: `<a href="jav&#x09;ascript:alert(1)">x</a>`, absent: []string{"<a"}},
	{name: "a href javascript", in: `<a href="javascript:alert(1)">x</a>`, absent: []string{"<a"}},
	{name: "mixed case scheme", in: "[a](JaVaScRiPt:alert(1))", want: "<p>a</p>"},
	{name: "decimal entity scheme", in: "[a](&#106;avascript:alert(1))", want: "<p>a</p>"},
	{name: "hex entity scheme", in: "[a](&#x6A;avascript:alert(1))", want: "<p>a</p>"},
	{
		name: "fully entity encoded scheme",
		in:   "[a](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
		want: "<p>a</p>",
	},
	{
		name: "entities without semicolons",
		in:   "[a](&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1))",
		want: "<p>a</p>",
	},
	{name: "named colon entity", in: "[a](javascript&colon;alert(1))", want: "<p>a</p>"},
	{name: "pointy destination", in: "[a](<javascript:alert(1)>)", want: "<p>a</p>"},
	{name: "padded pointy destination", in: "[a](<  javascript:alert(1)>)", want: "<p>a</p>"},
	{name: "padded destination", in: "[a](   javascript:alert(1)   )", want: "<p>a</p>"},
	{name: "newline before scheme", in: "[a](\njavascript:alert(1))", want: "<p>a</p>"},
	{name: "percent encoded newline", in: "[a](java%0ascript:alert(1))", want: "<p>a</p>"},
	{name: "javascript with slashes", in: "[a](javascript://%0aalert(1))", want: "<p>a</p>"},
	{name: "vbscript", in: "[a](vbscript:msgbox(1))", want: "<p>a</p>"},
	{name: "data url", in: "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", want: "<p>a</p>"},
	{name: "autolink javascript", in: "<javascript:alert(1)>", want: "<p>javascript:alert(1)</p>"},
	{name: "autolink upper case javascript", in: "<JAVASCRIPT:alert(1)>", want: "<p>JAVASCRIPT:alert(1)</p>"},
	{name: "reference javascript", in: "[a][r]\n\n[r]: javascript:alert(1)", want: "<p>a</p>"},
	{name: "image javascript", in: "![x](javascript:alert(1))", want: "<p>x</p>"},
	{name: "image onerror in alt", in: `![" onerror="alert(1)](https://e.com/p.png)`, absent: []string{`" onerror`}},
	{name: "title breakout", in: `[a](https://e.com "\" onmouseover=\"alert(1)")`, absent: []string{`" onmouseover`}},
	{name: "quote in destination", in: `[a](https://e.com"onclick="alert(1))`, absent: []string{`"onclick`}},
	{name: "linkify quote breakout", in: `https://e.com/"onmouseover="alert(1)`, absent: []string{`"onmouseover`}},
	{name: "iframe", in: `<iframe src="javascript:alert(1)"></iframe>`, absent: []string{"<iframe"}},
	{name: "object", in: `<object data="javascript:alert(1)"></object>`, absent: []string{"<object"}},
	{name: "embed", in: `<embed src="javascript:alert(1)">`, absent: []string{"<embed"}},
	{name: "math mglyph", in: "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", absent: []string{"<math", "<style", "<img"}},
	{name: "form", in: `<form action="javascript:alert(1)"><input type=submit>`, absent: []string{"<form", "<input"}},
	{name: "style import", in: "<style>@import 'http://evil.example/x.css';</style>", absent: []string{"<style"}},
	{name: "style attribute", in: `<div style="background:url(javascript:alert(1))">x</div>`, absent: []string{"<div"}},
	{name: "link stylesheet", in: "<link rel=stylesheet href=http://evil.example/x.css>", absent: []string{"<link"}},
	{name: "meta refresh", in: `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`, absent: []string{"<meta"}},
	{name: "base href", in: `<base href="javascript:alert(1)//">`, absent: []string{"<base"}},
	{name: "split script", in: "<scr<script>ipt>alert(1)</script>", absent: []string{"<scr"}},
	{name: "html inside link text", in: "[<img src=x onerror=alert(1)>](https://e.com)", absent: []string{"<img"}},
	{name: "comment hiding a tag", in: "<!--<img src=x onerror=alert(1)>-->", absent: []string{"<img", "<!--"}},
	{name: "cdata", in: "<![CDATA[<script>alert(1)</script>]]>", absent: []string{"<script", "<![CDATA"}},
	{name: "long s scheme", in: "[a](httpſ://evil.example)", want: "<p>a</p>"},
	{name: "nul byte", in: "[a](java\x00script:alert(1))\x00", absent: []string{"\x00"}},
}

func TestRender(t *testing.T) {
	for _, group := range [][]renderCase{formattingCases, linkCases, xssCases} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				got := Render(tc.in)
				if tc.want != "" || tc.in == "" {
					if got != tc.want {
						t.Errorf("Render(%q)\n got: %q\nwant: %q", tc.in, got, tc.want)
					}
				}
				for _, s := range tc.contains {
					if !strings.Contains(got, s) {
						t.Errorf("Render(%q) = %q, want it to contain %q", tc.in, got, s)
					}
				}
				for _, s := range tc.absent {
					if strings.Contains(strings.ToLower(got), strings.ToLower(s)) {
						t.Errorf("Render(%q) = %q, must not contain %q", tc.in, got, s)
					}
				}
				if err := checkSafe(got); err != nil {
					t.Errorf("Render(%q) = %q: %v", tc.in, got, err)
				}
			})
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, tc := range linkCases {
				if tc.want != "" && Render(tc.in) != tc.want {
					t.Errorf("concurrent Render(%q) differs", tc.in)
				}
			}
		})
	}
	wg.Wait()
}

func TestAllowedURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://e.com":   true,
		"HTTPS://e.com":  true,
		"mailto:a@e.com": false,
		"MailTo:a@e.com": false,
		"http:e.com":     false,
		"https:/e.com":   false,
		"ftp://e.com":    false,
		"//e.com":        false,
		"/x":             false,
		"e.com":          false,
		"javascript:x":   false,
		"httpſ://e.com":  false,
		"http://[::1":    false,
		"":               false,
	} {
		if got := allowedURL([]byte(u)); got != want {
			t.Errorf("allowedURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// allowedTags is everything the policy lets through. Anything else in the
// output, script, iframe, object, embed, svg, math, style, img, form, input,
// link, meta, base included, is a failure.
var allowedTags = map[string]bool{
	"p": true, "br": true, "strong": true, "em": true, "del": true,
	"code": true, "pre": true, "blockquote": true, "ul": true, "ol": true,
	"li": true, "hr": true, "a": true,
}

// checkSafe tokenizes out like a browser would and reports the first policy
// violation.
func checkSafe(out string) error {
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return nil
			}
			return z.Err()
		case html.CommentToken, html.DoctypeToken:
			return fmt.Errorf("unexpected %s", z.Token())
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				return fmt.Errorf("disallowed tag %s", tok)
			}
			if err := checkAttrs(tok); err != nil {
				return fmt.Errorf("%s: %w", tok, err)
			}
		}
	}
}

func checkAttrs(tok html.Token) error {
	var hasHref, hasRel bool
	for _, a := range tok.Attr {
		name := strings.ToLower(a.Key)
		switch {
		case strings.HasPrefix(name, "on"):
			return fmt.Errorf("event handler attribute %q", a.Key)
		case name == "style", name == "target", name == "id", name == "src":
			return fmt.Errorf("disallowed attribute %q", a.Key)
		case name == "href":
			hasHref = true
			if !safeHref(a.Val) {
				return fmt.Errorf("unsafe href %q", a.Val)
			}
		case name == "rel":
			hasRel = true
			rel := strings.Fields(a.Val)
			for _, want := range []string{"nofollow", "ugc", "noopener"} {
				if !slices.Contains(rel, want) {
					return fmt.Errorf("rel %q lacks %q", a.Val, want)
				}
			}
		}
	}
	if tok.Type == html.StartTagToken && tok.Data == "a" && (!hasHref || !hasRel) {
		return errors.New("link without href or rel")
	}
	return nil
}

// safeHref reports whether v, an already entity-decoded attribute value,
// has an allowed scheme once processed like a browser processes a URL:
// leading and trailing C0 controls and spaces stripped, tabs and newlines
// removed anywhere, scheme compared case-insensitively.
func safeHref(v string) bool {
	v = strings.TrimFunc(v, func(r rune) bool { return r <= ' ' })
	v = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(v)
	v = strings.ToLower(v)
	return strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:")
}

func FuzzRender(f *testing.F) {
	for _, group := range [][]renderCase{formattingCases, linkCases, xssCases} {
		for _, tc := range group {
			f.Add(tc.in)
		}
	}
	f.Add(benchComment)
	f.Fuzz(func(t *testing.T, in string) {
		out := Render(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Render(%q) = %q: invalid UTF-8", in, out)
		}
		if err := checkSafe(out); err != nil {
			t.Fatalf("Render(%q) = %q: %v", in, out, err)
		}
		if again := Render(in); again != out {
			t.Fatalf("Render(%q) is not deterministic: %q then %q", in, out, again)
		}
	})
}

// benchComment is a realistic comment of about 600 characters.
const benchComment = `Great write-up, thanks! I ran into exactly the same problem last year when
we moved our blog off a hosted platform. The part about **not** loading
third-party scripts in the comment widget is what convinced me.

A couple of notes:

- the link to the migration guide is broken, I think it moved to
  https://docs.example.org/guides/migration-v2
- the *second* config example is missing a closing brace

Also, for anyone reading this later, [this thread](https://forum.example.com/t/comments/4242)
has more background. I'd love a follow-up post about moderation: spam is the
part that scares me most. ~~Disqus~~ never again!`

func BenchmarkRender(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchComment)))
	for b.Loop() {
		Render(benchComment)
	}
}
