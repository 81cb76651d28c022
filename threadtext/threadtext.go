// Package threadtext parses the plain-text thread format: an article
// followed by its numbered reader comments. This comment is the format's
// specification. An example, with an anonymous comment and one by Ann:
//
//	Title of the article
//
//	The standfirst, in one paragraph.
//
//	The first paragraph of the article body,
//	which may span several lines.
//
//	The second paragraph.
//
//	  1. An anonymous comment.
//
//	  2. Ann
//
//	    The first paragraph of Ann's comment,
//	    which has two lines.
//
//	    Its second paragraph.
//
// # Lines
//
// The input is UTF-8 text of at most [MaxInput] bytes, split into lines at
// "\n"; no line may be longer than [MaxLine] bytes. A byte order mark at the
// very start and white space at the end of a line (including the "\r" of a
// "\r\n" line ending) are ignored. A line holding nothing but white space
// is blank. A line is indented if it starts with white space; its depth is
// the width of that white space, where a tab reaches the next multiple of
// four columns and any other white space character is one column wide.
//
// # Article
//
// Line 1 is the title. It must be neither blank nor indented, and the line
// after it, if any, must be blank.
//
// Next come paragraphs of unindented lines separated by blank lines. The
// first is the standfirst and the rest are the article body; either may be
// absent.
//
// # Comments
//
// The comment section starts at the first indented line, which must come
// after a blank line. From there on every non-blank line must be indented.
//
// A numbered line is an indented line whose text starts with a decimal
// number and a full stop followed by white space or the end of the line,
// like the first lines of the comments in the example. It starts a new comment, even without a blank
// line before it, unless it is indented more deeply than the previous
// numbered line: then it is ordinary text, so a comment can contain a
// numbered list. The text after the number together with the lines directly
// below it (without a blank line between) is the comment's heading.
//
// A heading of one line of text followed, after exactly one blank line, by
// an indented paragraph gives a named comment: the heading is the author's
// name and the paragraph is the start of the body. Any other heading gives
// an anonymous comment whose body starts with the heading itself, so a
// numbered line holding only a name, with no body below, reads as an
// anonymous comment. A numbered line with no text is an anonymous comment
// whose body is the paragraph one blank line below it; without such a
// paragraph it is an error.
//
// A body goes on with each indented paragraph that follows the previous one
// after exactly one blank line, so a comment may have several paragraphs.
// Two or more blank lines end a comment: an indented paragraph after them,
// or at the start of the comment section, that does not begin with a
// numbered line is an anonymous comment whose numbered line was lost, and it
// takes the next number in sequence.
//
// Comments are numbered 1, 2, 3 and so on in order, counting the ones with
// lost numbered lines; any other number is an error.
//
// # Text
//
// The indentation and trailing white space of every line are removed. The
// lines of a paragraph are joined with "\n" and the paragraphs of a comment
// body with "\n\n".
package threadtext

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the input, so that a hostile or mistaken upload fails with a
// clear error instead of exhausting memory.
const (
	MaxInput = 8 << 20  // bytes in the whole input
	MaxLine  = 64 << 10 // bytes in one line, not counting the line ending
)

// Thread is an article and its reader comments, as written in the
// plain-text thread format.
type Thread struct {
	Title      string
	Standfirst string
	Body       []string  // paragraphs of the article body, in order
	Comments   []Comment // in the order written
}

// Comment is one reader comment of a [Thread].
type Comment struct {
	Number int    // as written, or inferred when the numbered line was lost
	Author string // "" for an anonymous comment
	Body   string // lines joined by "\n", paragraphs by "\n\n"
}

// ParseError reports malformed input.
type ParseError struct {
	Line int // 1-based; 0 when the error concerns the input as a whole
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func errorf(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a thread in the plain-text thread format described in the
// package documentation. Malformed input gives a [*ParseError]; an error
// from r is returned wrapped.
func Parse(r io.Reader) (*Thread, error) {
	// Reading one byte past the limit tells a too-large input from one
	// that is exactly at it.
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("threadtext: reading input: %w", err)
	}
	if len(data) > MaxInput {
		return nil, errorf(0, "input is larger than %d bytes", MaxInput)
	}
	lines, err := splitLines(string(data))
	if err != nil {
		return nil, err
	}
	return parseLines(lines)
}

// A line is one input line with its indentation and trailing white space
// removed.
type line struct {
	num   int // 1-based line number
	depth int // width of the indentation; 0 for an unindented line
	text  string
}

func (l line) blank() bool { return l.text == "" }

func splitLines(s string) ([]line, error) {
	s = strings.TrimPrefix(s, "\uFEFF")
	var lines []line
	n := 0
	for raw := range strings.Lines(s) {
		n++
		// The line ending does not count towards MaxLine.
		raw = strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
		if len(raw) > MaxLine {
			return nil, errorf(n, "line is longer than %d bytes", MaxLine)
		}
		if !utf8.ValidString(raw) {
			return nil, errorf(n, "invalid UTF-8")
		}
		depth, i := 0, 0
		for i < len(raw) {
			r, size := utf8.DecodeRuneInString(raw[i:])
			if !unicode.IsSpace(r) {
				break
			}
			if r == '\t' {
				depth = depth/4*4 + 4
			} else {
				depth++
			}
			i += size
		}
		text := strings.TrimRightFunc(raw[i:], unicode.IsSpace)
		if text == "" {
			depth = 0
		}
		lines = append(lines, line{num: n, depth: depth, text: text})
	}
	return lines, nil
}

func parseLines(lines []line) (*Thread, error) {
	if !hasText(lines) {
		return nil, errorf(0, "empty input")
	}
	title := lines[0]
	switch {
	case title.blank():
		return nil, errorf(1, "the first line must be the title, but it is blank")
	case title.depth > 0:
		return nil, errorf(1, "the title must not be indented")
	case len(lines) > 1 && !lines[1].blank():
		return nil, errorf(2, "the title must be a single line followed by a blank line")
	}
	t := &Thread{Title: strings.Clone(title.text)}

	// Article paragraphs run up to the first indented line.
	var paras []string
	i := 1
	for i < len(lines) {
		if lines[i].blank() {
			i++
			continue
		}
		if lines[i].depth > 0 {
			break
		}
		start := i
		for i < len(lines) && !lines[i].blank() && lines[i].depth == 0 {
			i++
		}
		if i < len(lines) && !lines[i].blank() {
			return nil, errorf(lines[i].num, "indented line inside an article paragraph; put a blank line before the first comment")
		}
		paras = append(paras, joinLines(lines[start:i]))
	}
	if len(paras) > 0 {
		t.Standfirst = paras[0]
	}
	if len(paras) > 1 {
		t.Body = paras[1:]
	}

	blocks, err := splitBlocks(lines[i:])
	if err != nil {
		return nil, err
	}
	t.Comments, err = parseComments(blocks)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func hasText(lines []line) bool {
	for _, l := range lines {
		if !l.blank() {
			return true
		}
	}
	return false
}

// A block is a run of non-blank lines in the comment section. A numbered
// line always starts a new block, so a block is either a comment's heading
// or a paragraph of a body.
type block struct {
	gap    int    // blank lines before the block
	number string // digits of the numbered line; "" for a paragraph
	lines  []line // for a heading, lines[0].text is the text after the number
}

func splitBlocks(lines []line) ([]block, error) {
	var blocks []block
	gap := 0
	numDepth := -1 // depth of the latest numbered line; -1 before the first
	for _, l := range lines {
		if l.blank() {
			gap++
			continue
		}
		if l.depth == 0 {
			return nil, errorf(l.num, "unindented line in the comment section; comment lines must be indented")
		}
		digits, rest, ok := cutNumber(l.text)
		switch {
		case ok && (numDepth < 0 || l.depth <= numDepth):
			numDepth = l.depth
			l.text = rest
			blocks = append(blocks, block{gap: gap, number: digits, lines: []line{l}})
		case gap > 0 || len(blocks) == 0:
			blocks = append(blocks, block{gap: gap, lines: []line{l}})
		default:
			b := &blocks[len(blocks)-1]
			b.lines = append(b.lines, l)
		}
		gap = 0
	}
	return blocks, nil
}

// cutNumber splits a numbered line's text like "12. Some text" into "12"
// and "Some text".
func cutNumber(s string) (digits, rest string, ok bool) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) || s[i] != '.' {
		return "", "", false
	}
	rest = s[i+1:]
	// Requiring white space after the dot keeps text like "3.5 million"
	// from being read as a number.
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && !unicode.IsSpace(r) {
		return "", "", false
	}
	return s[:i], strings.TrimSpace(rest), true
}

func parseComments(blocks []block) ([]Comment, error) {
	var comments []Comment
	lostLine := 0 // first line of the latest comment if its number was inferred
	for i := 0; i < len(blocks); {
		c := Comment{Number: len(comments) + 1}
		var body []block
		if b := blocks[i]; b.number != "" {
			first := b.lines[0]
			if n, err := strconv.Atoi(b.number); err != nil || n != c.Number {
				msg := fmt.Sprintf("comment number %s is out of sequence: expected %d", b.number, c.Number)
				if lostLine != 0 {
					msg += fmt.Sprintf(" (the unnumbered paragraph at line %d was taken as comment %d)", lostLine, c.Number-1)
				}
				return nil, errorf(first.num, "%s", msg)
			}
			i++
			bodyBelow := i < len(blocks) && blocks[i].number == "" && blocks[i].gap == 1
			switch {
			case len(b.lines) == 1 && bodyBelow:
				c.Author = strings.Clone(first.text) // "" for a numbered line with no text
			case len(b.lines) == 1 && first.blank():
				return nil, errorf(first.num, "comment %d has no text", c.Number)
			default:
				if first.blank() {
					b.lines = b.lines[1:]
				}
				body = append(body, b)
			}
			lostLine = 0
		} else {
			lostLine = b.lines[0].num
		}
		// Paragraphs one blank line apart belong to the same body. An empty
		// body takes the next paragraph whatever the gap: a heading leaves
		// its body empty only when that paragraph is one blank line below,
		// and otherwise this is a lost-number comment and the paragraph is
		// its own first one.
		for i < len(blocks) && blocks[i].number == "" && (len(body) == 0 || blocks[i].gap == 1) {
			body = append(body, blocks[i])
			i++
		}
		c.Body = joinBlocks(body)
		comments = append(comments, c)
	}
	return comments, nil
}

func joinLines(lines []line) string {
	var sb strings.Builder
	for i, l := range lines {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(l.text)
	}
	return sb.String()
}

func joinBlocks(blocks []block) string {
	paras := make([]string, len(blocks))
	for i, b := range blocks {
		paras[i] = joinLines(b.lines)
	}
	return strings.Join(paras, "\n\n")
}
