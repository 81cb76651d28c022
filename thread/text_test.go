package thread

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/unicode/norm"

	"github.com/threadline/threadline/markdown"
)

// FuzzValidateDisplayName holds every name it accepts to what readers are promised of names: one line of NFC
// text with something visible, no more than MaxDisplayNameChars characters, no bidirectional control nor any
// other invisible character but a joiner between two characters, no mark without a base nor more than
// maxMarksPerBase on one; and cleaning it again changes nothing.
func FuzzValidateDisplayName(f *testing.F) {
	for _, s := range []string{"Ada", "Admin\u202E\u2066 (moderator)", "\u200B", "A\u3164B", "Z\u0336\u0336\u0336\u0336\u0336\u0336",
		"\U0001F469\u200D\U0001F4BB", "\u0645\u06CC\u200C\u062E", "\u2764\uFE0F", "e\u0301", "\u200D\u0301x", "a \u200D b", "#\uFE0F\u20E3", "e\u200B\u0301", "A\u0308\u200B\u0304"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, err := ValidateDisplayName(in)
		if err != nil {
			return
		}
		if !hasInk(name) || utf8.RuneCountInString(name) > MaxDisplayNameChars || !norm.NFC.IsNormalString(name) || strings.TrimSpace(name) != name {
			t.Fatalf("%+q became %+q", in, name)
		}
		runes := []rune(name)
		marks := 0
		for i, r := range runes {
			switch {
			case unicode.IsControl(r), unicode.In(r, unicode.Bidi_Control, unicode.Zl, unicode.Zp):
				t.Fatalf("%+q became %+q, with %U", in, name, r)
			case r == zwj || r == zwnj:
				if i == 0 || i == len(runes)-1 || runes[i-1] == ' ' || runes[i+1] == ' ' || runes[i-1] == zwj || runes[i-1] == zwnj {
					t.Fatalf("%+q became %+q, with a joiner at %d", in, name, i)
				}
			case unicode.Is(unicode.Variation_Selector, r):
			case invisible(r):
				t.Fatalf("%+q became %+q, with %U", in, name, r)
			case unicode.Is(unicode.M, r):
				if marks++; marks > maxMarksPerBase || i == 0 || runes[i-1] == ' ' {
					t.Fatalf("%+q became %+q, with a mark %U out of place", in, name, r)
				}
				continue
			}
			marks = 0
		}
		if again, err := ValidateDisplayName(name); err != nil || again != name {
			t.Fatalf("%+q became %+q, and then %+q (%v)", in, name, again, err)
		}
	})
}

// FuzzPrepareBody: a body accepted is one whose rendering has something visible, as an HTML parser reads it.
func FuzzPrepareBody(f *testing.F) {
	for _, s := range []string{"hello", "\u200B", "[](https://x)", "&#8203;", "1.", "---", "**\u200B**", "\u05E9\u05DC\u05D5\u05DD \u202Eabc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		body, err := ValidateBody(in)
		if err != nil {
			return
		}
		rendered := markdown.Render(body)
		_, _, err = PrepareBody(in)
		if want := hasInk(htmlText(rendered)); (err == nil) != want {
			t.Fatalf("%+q rendered as %q: accepted %v, has ink %v", in, rendered, err == nil, want)
		}
	})
}

// htmlText returns the text of an HTML fragment as a parser reads it, character references decoded.
func htmlText(fragment string) string {
	z := html.NewTokenizer(strings.NewReader(fragment))
	var text bytes.Buffer
	for {
		switch z.Next() {
		case html.ErrorToken:
			return text.String()
		case html.TextToken:
			text.Write(z.Text())
		}
	}
}
