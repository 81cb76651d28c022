package app

// THREADLINE-PATCH: added. Server-side rendering must write attribute values
// so that an HTML parser reads back exactly the value that was set, whatever
// it holds.

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestEncodeAttributeValueRoundTrips(t *testing.T) {
	values := []string{
		`"><script>alert(1)</script>`,
		`'><img src=x onerror=alert(1)>`,
		`" onmouseover="alert(1)`,
		"` onfocus=alert(1) autofocus x=`",
		`</script><script>alert(1)</script>`,
		`a"b'c<d>e&f\g` + "`h\ni\tj\rk",
		`&amp; &lt; &#34; &quot;`,
		`javascript:alert(1)`,
		"\u2028\u2029 ünïcödé",
	}
	for _, name := range []string{"title", "class", "id", "data-x", "aria-label", "href", "src", "content", "value", "alt", "style"} {
		for _, v := range values {
			out := HTMLString(Div().Attr(name, v))
			z := html.NewTokenizer(strings.NewReader(out))
			if z.Next() != html.StartTagToken {
				t.Fatalf("%s=%q: written as %s", name, v, out)
			}
			tok := z.Token()
			want := v
			if name != "value" {
				want = strings.TrimSpace(v)
			}
			if len(tok.Attr) != 1 || tok.Attr[0].Key != name || tok.Attr[0].Val != want {
				t.Errorf("%s=%q: read back as %q from %s", name, v, tok.Attr, out)
			}
			if z.Next(); z.Token().Type != html.EndTagToken {
				t.Errorf("%s=%q: more than one element in %s", name, v, out)
			}
		}
	}
}

func TestEncodeAttributeNameIsChecked(t *testing.T) {
	for _, name := range []string{`x onload=alert(1)`, `x"`, `x>`, `x/`, "x\n", ""} {
		out := HTMLString(Div().Attr(name, "v"))
		if out != "<div></div>" {
			t.Errorf("attribute name %q written as %s", name, out)
		}
	}
}
