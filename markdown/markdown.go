// Package markdown turns the Markdown body of a reader's comment into safe
// HTML for the Threadline widget.
//
// Rendering is done by goldmark (CommonMark plus hard wraps, strikethrough
// and linkify) and the result is always passed through a bluemonday policy
// that allows only the elements and attributes this renderer emits. The
// renderer is the first line of defence, the sanitizer the last one: neither
// trusts the other.
//
// Policy, and why:
//
//   - A single newline is a line break (<br>). Readers type comments in a
//     textarea and expect their line breaks to survive.
//   - Raw HTML is never interpreted. The HTML block and inline raw-HTML
//     parsers are removed from goldmark, so "<b>hi</b>" or
//     "<script>…</script>" is shown to everyone exactly as it was typed, as
//     escaped text, instead of being silently dropped.
//   - Images are never rendered as <img>. Threadline tracks no reader, and a
//     remote image in a comment would leak the IP address (and more) of every
//     reader of the thread to whoever hosts the image. ![alt](url) becomes a
//     plain link to url with alt as its text, so a reader can still choose to
//     open it.
//   - Headings (# Title, or a line underlined with === / ---) become a
//     paragraph of strong text. A comment is a small part of somebody else's
//     page: <h1>-sized text would shout over the article and pollute the
//     document outline, yet the writer's intent (an emphasised line) is kept.
//     No heading IDs are generated.
//   - Links (including bare URLs, which are linkified, and the links that
//     replace images) are kept only if package linkurl allows them: absolute
//     http and https URLs, the only links Threadline ever draws; otherwise
//     only their text is kept. Everything else — javascript:, vbscript:,
//     data:, file:, mailto:, relative URLs that would resolve against the
//     widget's own origin — is dropped, in any spelling. An email address
//     stays text.
//   - Every link gets rel="nofollow ugc noopener": "ugc" and "nofollow" tell
//     search engines the link is user-generated and not endorsed by the site
//     (and take the incentive out of link spam); "noopener" keeps a page
//     opened from the comment from reaching back into the widget through
//     window.opener.
//   - No target attribute is set. The widget runs inside an iframe, where
//     target="_blank" would be the embedding page's decision to make, not
//     the comment author's; the widget can handle link clicks itself (for
//     example by rewriting them to target="_top" or "_blank" in one place).
//
// The sanitizer allows p, br, strong, em, del, code, pre, blockquote, ul,
// ol, li, hr and a, with only these attributes: a[href rel title],
// ol[start] and code[class="language-…"] (from fenced code blocks). In
// particular no style, no event handler (on*) and no id attribute can ever
// appear in the output.
package markdown

import (
	"bytes"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/threadline/threadline/linkurl"
)

// linkRel is the rel attribute value of every link in the output.
const linkRel = "nofollow ugc noopener"

// md and policy are built once and are safe for concurrent use.
var (
	md     = newMarkdown()
	policy = newPolicy()
)

var crlf = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// bufPool recycles the two buffers a Render call needs.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf keeps the occasional huge comment from pinning a large buffer
// in the pool.
const maxPooledBuf = 64 << 10

// Render converts comment Markdown to sanitized HTML. It is safe for
// concurrent use.
//
// The result is valid UTF-8 (invalid sequences in src become U+FFFD) and
// has no trailing newline. Empty or whitespace-only input returns "".
//
// Render does not limit the size of src; callers must reject oversized
// comments first. Some inputs (long runs of alternating emphasis markers,
// thousands of nested block quotes) make goldmark's parser quadratic:
// roughly 25 ms at 10 KB, 0.3 s at 30 KB.
func Render(src string) string {
	if src == "" {
		return ""
	}
	if !utf8.ValidString(src) {
		src = strings.ToValidUTF8(src, "\uFFFD")
	}
	if strings.IndexByte(src, '\r') >= 0 {
		// goldmark handles CRLF, which is what browsers submit, but a lone
		// CR would not become a line break.
		src = crlf.Replace(src)
	}
	raw := getBuf()
	defer putBuf(raw)
	if err := md.Convert([]byte(src), raw); err != nil {
		return "" // cannot happen with a bytes.Buffer; fail closed anyway
	}
	clean := getBuf()
	defer putBuf(clean)
	if err := policy.SanitizeReaderToWriter(raw, clean); err != nil {
		return "" // fail closed: clean may hold a partial document
	}
	return string(bytes.TrimRight(clean.Bytes(), "\n"))
}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuf {
		bufPool.Put(b)
	}
}

func newMarkdown() goldmark.Markdown {
	// The default parsers minus the two raw-HTML ones, so that HTML in a
	// comment is plain text that the HTML renderer escapes.
	blocks := without(parser.DefaultBlockParsers(), parser.NewHTMLBlockParser())
	inlines := without(parser.DefaultInlineParsers(), parser.NewRawHTMLParser())
	p := parser.NewParser(
		parser.WithBlockParsers(blocks...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
		// After every other transformer, so it sees the final tree.
		parser.WithASTTransformers(util.Prioritized(commentTransformer{}, 10000)),
	)
	return goldmark.New(
		goldmark.WithParser(p),
		goldmark.WithExtensions(
			extension.Strikethrough,
			extension.NewLinkify(
				extension.WithLinkifyAllowedProtocols([]string{"http:", "https:"}),
			),
		),
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
}

// without returns list minus the entries whose value has the dynamic type of
// drop.
func without(list []util.PrioritizedValue, drop any) []util.PrioritizedValue {
	t := reflect.TypeOf(drop)
	return slices.DeleteFunc(list, func(v util.PrioritizedValue) bool {
		return reflect.TypeOf(v.Value) == t
	})
}

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "del", "code", "pre",
		"blockquote", "ul", "ol", "li", "hr")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	p.AllowAttrs("title").OnElements("a")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+#.-]{1,40}$`)).OnElements("code")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	// Backstop only: the renderer already puts linkRel on every link, and
	// bluemonday leaves a rel that contains nofollow alone.
	p.RequireNoFollowOnLinks(true)
	return p
}

// commentTransformer rewrites the parsed comment into what Threadline is
// willing to show:
//
//   - headings become a paragraph of strong text;
//   - links and autolinks with an allowed URL get rel=linkRel, the others
//     are replaced by their text;
//   - images become links to the image (or just their alt text);
//   - nothing link-like is left inside a link, so anchors never nest.
type commentTransformer struct{}

var relValue = []byte(linkRel)

func (commentTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	rewrite(doc, reader.Source(), false)
}

func rewrite(parent ast.Node, src []byte, inLink bool) {
	for n := parent.FirstChild(); n != nil; {
		next := n.NextSibling() // n may be replaced or unwrapped below
		switch n := n.(type) {
		case *ast.Heading:
			if !n.HasChildren() { // a lone "#"
				parent.RemoveChild(parent, n)
				break
			}
			rewrite(n, src, inLink)
			strong := ast.NewEmphasis(2)
			moveChildren(strong, n)
			para := ast.NewParagraph()
			para.AppendChild(para, strong)
			parent.ReplaceChild(parent, n, para)
		case *ast.Link:
			if inLink || !allowedURL(util.URLEscape(n.Destination, true)) {
				rewrite(n, src, inLink)
				unwrap(parent, n)
				break
			}
			rewrite(n, src, true)
			n.SetAttribute([]byte("rel"), relValue)
		case *ast.Image:
			if inLink || !allowedURL(util.URLEscape(n.Destination, true)) {
				rewrite(n, src, inLink)
				unwrap(parent, n)
				break
			}
			rewrite(n, src, true)
			link := ast.NewLink()
			link.Destination = n.Destination
			link.Title = n.Title
			if n.HasChildren() {
				moveChildren(link, n)
			} else {
				// No alt text: show the URL rather than an invisible link.
				label := ast.NewString(n.Destination)
				label.SetRaw(true)
				link.AppendChild(link, label)
			}
			link.SetAttribute([]byte("rel"), relValue)
			parent.ReplaceChild(parent, n, link)
		case *ast.AutoLink:
			// Email autolinks would be mailto: links, which Threadline does not draw.
			if inLink || n.AutoLinkType != ast.AutoLinkURL || !allowedURL(util.URLEscape(n.URL(src), false)) {
				label := ast.NewString(n.Label(src))
				label.SetRaw(true)
				parent.ReplaceChild(parent, n, label)
				break
			}
			n.SetAttribute([]byte("rel"), relValue)
		default:
			rewrite(n, src, inLink)
		}
		n = next
	}
}

// moveChildren moves all children of from to the end of to.
func moveChildren(to, from ast.Node) {
	for c := from.FirstChild(); c != nil; {
		next := c.NextSibling()
		to.AppendChild(to, c)
		c = next
	}
}

// unwrap replaces n by its children.
func unwrap(parent, n ast.Node) {
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}

// allowedURL reports whether u, a URL as the HTML renderer writes it into
// an href, may be a link (see package linkurl). The sanitizer accepts every
// such URL too, so that no link is left without its href.
func allowedURL(u []byte) bool {
	return linkurl.Allowed(string(u))
}
