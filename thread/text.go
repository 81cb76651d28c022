package thread

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/threadline/threadline/markdown"
)

// What readers see of text is its visible characters; the rest (format controls, zero-width characters, fillers,
// variation selectors, marks with nothing to mark) can make a name or a body look empty, look like another, or
// reorder what surrounds it. These functions think in those classes, not in lists of examples.

// blankGlyphs are graphic characters that fonts draw as nothing, beyond the default-ignorable ones.
var blankGlyphs = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x2800, Hi: 0x2800, Stride: 1}, // BRAILLE PATTERN BLANK
}, R32: []unicode.Range32{
	{Lo: 0x1D159, Hi: 0x1D159, Stride: 1}, // MUSICAL SYMBOL NULL NOTEHEAD
}}

// inked reports whether r draws something: a letter, digit, punctuation mark or symbol that is neither default
// ignorable (the Hangul fillers are letters that draw nothing) nor blank. Marks are not counted: they draw on
// a base, and without one they are nothing to read.
func inked(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) &&
		!unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, blankGlyphs)
}

// hasInk reports whether s has at least one character that draws something.
func hasInk(s string) bool { return strings.IndexFunc(s, inked) >= 0 }

// invisible reports whether r draws nothing and takes no space: format controls (the bidirectional ones
// included), zero-width characters, default-ignorable fillers and variation selectors.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) ||
		unicode.Is(blankGlyphs, r)
}

// Joiners are the only invisible characters a name keeps: ZWNJ and ZWJ shape Persian and Indic script and join
// emoji sequences.
const (
	zwnj = '\u200C'
	zwj  = '\u200D'
)

// maxMarksPerBase bounds the combining marks a name stacks on one character: real scripts use a few, and a
// tower of them ("Zalgo") spills over the lines around a name.
const maxMarksPerBase = 4

// cleanName returns a name as readers will see it: NFC, one line, with no bidirectional controls (a name must
// not reorder the text after it: "Admin\u202E"), no zero-width or other invisible characters (which make two
// names look alike), no marks without a base or beyond maxMarksPerBase, its white space collapsed. A joiner
// stays between two characters that draw; a variation selector stays after a symbol, digit or punctuation
// mark (emoji). It refuses text that is not UTF-8 and text of several lines; what is left may be empty.
func cleanName(what, name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", Errorf(CodeInvalid, "the %s is not valid UTF-8", what)
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) && r != '\t' || r == '\u2028' || r == '\u2029' }) >= 0 {
		return "", Errorf(CodeInvalid, "the %s must be one line of text", what)
	}
	if printableASCII(name) { // most names: nothing to normalise, nothing invisible
		return strings.Join(strings.Fields(name), " "), nil
	}
	name = norm.NFC.String(name)
	var b strings.Builder
	b.Grow(len(name))
	var prev rune = ' ' // the last rune kept; a space at the start, where marks have no base
	marks := 0
	for _, r := range name {
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
			r = ' '
		case r == zwnj || r == zwj:
			if prev == ' ' || prev == zwnj || prev == zwj {
				continue
			}
		case unicode.Is(unicode.Variation_Selector, r):
			if !unicode.In(prev, unicode.S, unicode.N, unicode.P) {
				continue
			}
		case invisible(r):
			continue
		case unicode.Is(unicode.M, r):
			if prev == ' ' || prev == zwnj || prev == zwj || marks >= maxMarksPerBase {
				continue
			}
			marks++
			b.WriteRune(r)
			continue // prev stays the base, so that the count holds for it
		}
		marks = 0
		b.WriteRune(r)
		prev = r
	}
	// A joiner is kept only between two characters: drop one before a space or at the end.
	fields := strings.Fields(b.String())
	for i, f := range fields {
		fields[i] = strings.TrimRight(f, string([]rune{zwnj, zwj}))
	}
	// Again NFC: what was dropped may have stood between a letter and the mark that now composes with it.
	return norm.NFC.String(strings.Join(fields, " ")), nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// importedText returns a note or an appeal from an import cleaned as cleanText cleans what moderators and
// authors write, cut to max characters, and "" when nothing visible is left.
func importedText(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	s, _ = cleanText("text", s, max, false)
	return s
}

// renderBody renders a checked body to HTML and refuses it when what readers would see of it has nothing
// visible: Markdown can empty text that has ink in its source ("[](https://x)", "&#8203;", "1.").
func renderBody(body string) (string, error) {
	rendered := markdown.Render(body)
	if !renderedHasInk(rendered) {
		return "", errEmptyBody
	}
	return rendered, nil
}

var errEmptyBody = Errorf(CodeInvalid, "the body must have some visible text")

// renderedHasInk reports whether the renderer's HTML shows a visible character: in its text, outside its tags,
// with character references decoded. The renderer's sanitizer escapes every "<", ">" and "&" that is not
// markup, so a scan finds the text; it stops at the first visible character, which is most often the first.
func renderedHasInk(h string) bool {
	inTag := false
	for i := 0; i < len(h); {
		switch c := h[i]; {
		case inTag:
			inTag = c != '>'
			i++
		case c == '<':
			inTag = true
			i++
		case c == '&':
			end := strings.IndexByte(h[i:], ';')
			if end < 0 {
				return true // a bare "&" is itself visible
			}
			if hasInk(html.UnescapeString(h[i : i+end+1])) {
				return true
			}
			i += end + 1
		default:
			r, n := utf8.DecodeRuneInString(h[i:])
			if inked(r) {
				return true
			}
			i += n
		}
	}
	return false
}
