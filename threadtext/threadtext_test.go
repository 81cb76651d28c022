package threadtext_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/threadtext"
)

func TestParseSample(t *testing.T) {
	th, err := threadtext.Parse(bytes.NewReader(seed.SocialCredit))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	if want := "Social Credit: China's Digital Dystopia In The Making"; th.Title != want {
		t.Errorf("Title = %q, want %q", th.Title, want)
	}
	if !strings.HasPrefix(th.Standfirst, "Leave No Dark Corner") {
		t.Errorf("Standfirst = %.40q…, want it to begin %q", th.Standfirst, "Leave No Dark Corner")
	}
	if len(th.Body) != 1 || !strings.HasPrefix(th.Body[0], "“If people keep their promises") {
		t.Errorf("Body has %d paragraphs, want 1 beginning %q", len(th.Body), "“If people keep their promises")
	}

	if len(th.Comments) != 45 {
		t.Fatalf("got %d comments, want 45", len(th.Comments))
	}
	anonymous := map[int]bool{}
	for _, n := range []int{1, 2, 6, 7, 8, 11, 12, 13, 20, 23, 24, 26, 27, 28, 33, 36, 38, 39, 41, 43, 45} {
		anonymous[n] = true
	}
	for i, c := range th.Comments {
		if c.Number != i+1 {
			t.Errorf("comment %d has Number %d", i+1, c.Number)
		}
		if got := c.Author == ""; got != anonymous[c.Number] {
			t.Errorf("comment %d: Author = %q, want anonymous = %v", c.Number, c.Author, anonymous[c.Number])
		}
	}

	// Comments by number, for the spot checks below.
	comment := func(n int) threadtext.Comment { return th.Comments[n-1] }

	c3 := comment(3)
	if c3.Author != "Lianne Abrahams" {
		t.Errorf("comment 3: Author = %q, want %q", c3.Author, "Lianne Abrahams")
	}
	if lines := strings.Split(c3.Body, "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "**this might depend") {
		t.Errorf("comment 3: Body = %q, want two lines, the second beginning %q", c3.Body, "**this might depend")
	}
	if c11 := comment(11); c11.Author != "" || c11.Body != "How did the film demolition man end again ??" {
		t.Errorf("comment 11 = %+v, want the anonymous orphan paragraph", c11)
	}
	for _, n := range []int{16, 17} {
		if want := "ИОСИФ Joseph Секейра Мендес Sequeira Mendes"; comment(n).Author != want {
			t.Errorf("comment %d: Author = %q, want %q", n, comment(n).Author, want)
		}
	}
	wantBody31 := "Ermmmm Hello.\nYou had so much before and gave it up for some points.\nWell that makes sense."
	if c31 := comment(31); c31.Author != "Calvin Marty Klein Mcfly" || c31.Body != wantBody31 {
		t.Errorf("comment 31 = %+v, want author %q and body %q", c31, "Calvin Marty Klein Mcfly", wantBody31)
	}
	if n := strings.Count(comment(34).Body, "\n"); n != 1 {
		t.Errorf("comment 34 body has %d line breaks, want 1", n)
	}
	if c44 := comment(44); c44.Author != "Jared Barker" {
		t.Errorf("comment 44: Author = %q, want %q", c44.Author, "Jared Barker")
	}
	if c45 := comment(45); c45.Body != "quite progressive, the Chinese society" {
		t.Errorf("comment 45: Body = %q", c45.Body)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *threadtext.Thread
	}{
		{
			name: "title only",
			in:   "Title\n",
			want: &threadtext.Thread{Title: "Title"},
		},
		{
			name: "article without comments",
			in:   "Title\n\nStandfirst\n\nFirst\nparagraph.\n\nSecond.\n\n\n",
			want: &threadtext.Thread{
				Title:      "Title",
				Standfirst: "Standfirst",
				Body:       []string{"First\nparagraph.", "Second."},
			},
		},
		{
			name: "comments straight after the title",
			in:   "Title\n\n  1. Hi\n",
			want: &threadtext.Thread{
				Title:    "Title",
				Comments: []threadtext.Comment{{Number: 1, Body: "Hi"}},
			},
		},
		{
			name: "named and anonymous",
			in:   "T\n\nS\n\n  1. Ann\n\n    Line one\n    line two.\n\n  2. Just text.\n",
			want: &threadtext.Thread{
				Title:      "T",
				Standfirst: "S",
				Comments: []threadtext.Comment{
					{Number: 1, Author: "Ann", Body: "Line one\nline two."},
					{Number: 2, Body: "Just text."},
				},
			},
		},
		{
			name: "multi-paragraph body",
			in:   "T\n\n  1. Ann\n\n    One.\n\n    Two\n    lines.\n\n    Three.\n\n  2. Bob\n\n    Hi.\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Author: "Ann", Body: "One.\n\nTwo\nlines.\n\nThree."},
					{Number: 2, Author: "Bob", Body: "Hi."},
				},
			},
		},
		{
			name: "lost numbered line after two blank lines",
			in:   "T\n\n  1. Ann\n\n    Hi.\n\n\n    Orphan.\n\n    More orphan.\n\n  3. Next\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Author: "Ann", Body: "Hi."},
					{Number: 2, Body: "Orphan.\n\nMore orphan."},
					{Number: 3, Body: "Next"},
				},
			},
		},
		{
			name: "lost first numbered line",
			in:   "T\n\n    Orphan.\n\n  2. Next\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Body: "Orphan."},
					{Number: 2, Body: "Next"},
				},
			},
		},
		{
			name: "heading then two blank lines is anonymous",
			in:   "T\n\n  1. Maybe a name\n\n\n    Orphan.\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Body: "Maybe a name"},
					{Number: 2, Body: "Orphan."},
				},
			},
		},
		{
			name: "author line without body reads as anonymous",
			in:   "T\n\n  1. Lianne Abrahams\n\n  2. Bob\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Body: "Lianne Abrahams"},
					{Number: 2, Body: "Bob"},
				},
			},
		},
		{
			name: "multi-line heading is anonymous and may go on",
			in:   "T\n\n  1. First line\n     second line.\n\n    Second paragraph.\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Body: "First line\nsecond line.\n\nSecond paragraph."},
				},
			},
		},
		{
			name: "empty numbered line with body below",
			in:   "T\n\n  1.\n\n    Nameless.\n\n  2.\n    Also nameless.\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Body: "Nameless."},
					{Number: 2, Body: "Also nameless."},
				},
			},
		},
		{
			name: "numbered lines need no blank line between them",
			in:   "T\n\n  1. One\n  2. Two\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Body: "One"},
					{Number: 2, Body: "Two"},
				},
			},
		},
		{
			name: "deeper numbered list is body text",
			in:   "T\n\n  1. Ann\n\n    My points:\n    1. this\n    2. that\n\n  2. Bob\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Author: "Ann", Body: "My points:\n1. this\n2. that"},
					{Number: 2, Body: "Bob"},
				},
			},
		},
		{
			name: "number not followed by space is text",
			in:   "T\n\n  1. Ann\n\n  3.5 million agree\n",
			want: &threadtext.Thread{
				Title: "T",
				Comments: []threadtext.Comment{
					{Number: 1, Author: "Ann", Body: "3.5 million agree"},
				},
			},
		},
		{
			name: "tabs, BOM and trailing white space",
			in:   "\uFEFFT \t\n\nS\n\n\t1. Ann\t\n\n\t\tHi \n\t\t1. listed\n\n\t2. Bob\n\n\n\n",
			want: &threadtext.Thread{
				Title:      "T",
				Standfirst: "S",
				Comments: []threadtext.Comment{
					{Number: 1, Author: "Ann", Body: "Hi\n1. listed"},
					{Number: 2, Body: "Bob"},
				},
			},
		},
		{
			name: "no final newline",
			in:   "T\n\n  1. Ann\n\n    Hi.",
			want: &threadtext.Thread{
				Title:    "T",
				Comments: []threadtext.Comment{{Number: 1, Author: "Ann", Body: "Hi."}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := threadtext.Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%#v\nwant\n%#v", got, tt.want)
			}
			// The same text with CRLF line endings must parse the same.
			crlf := strings.ReplaceAll(tt.in, "\n", "\r\n")
			got, err = threadtext.Parse(strings.NewReader(crlf))
			if err != nil {
				t.Fatalf("Parse with CRLF: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse with CRLF =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParseSampleCRLF(t *testing.T) {
	lf, err := threadtext.Parse(bytes.NewReader(seed.SocialCredit))
	if err != nil {
		t.Fatal(err)
	}
	crlf, err := threadtext.Parse(bytes.NewReader(bytes.ReplaceAll(seed.SocialCredit, []byte("\n"), []byte("\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lf, crlf) {
		t.Error("the sample parses differently with CRLF line endings")
	}
}

// errorCases are malformed inputs; they also seed the fuzzer.
var errorCases = []struct {
	name     string
	in       string
	line     int
	contains string
}{
	{"empty", "", 0, "empty input"},
	{"only white space", " \n\t\n\r\n  \n", 0, "empty input"},
	{"blank first line", "\nTitle\n", 1, "title"},
	{"indented title", "  1. Hi\n", 1, "title must not be indented"},
	{"two-line title", "Title\nmore title\n", 2, "single line"},
	{"comment inside article paragraph", "T\n\nS\n  1. Hi\n", 4, "article paragraph"},
	{"unindented text among comments", "T\n\n  1. Hi\n\nStray\n", 5, "unindented"},
	{"first number not 1", "T\n\n  2. Hi\n", 3, "expected 1"},
	{"number skipped", "T\n\n  1. Hi\n\n  3. Ho\n", 5, "expected 2"},
	{"duplicate number", "T\n\n  1. Hi\n\n  1. Ho\n", 5, "expected 2"},
	{"number after orphan", "T\n\n  1. A\n\n    Hi\n\n\n    Ho\n\n  2. B\n", 10, "line 8 was taken as comment 2"},
	{"huge number", "T\n\n  99999999999999999999999. Hi\n", 3, "out of sequence"},
	{"empty comment", "T\n\n  1.\n\n  2. Hi\n", 3, "comment 1 has no text"},
	{"empty last comment", "T\n\n  1. Hi\n\n  2.\n", 5, "comment 2 has no text"},
	{"empty comment before orphan", "T\n\n  1.\n\n\n    Hi\n", 3, "comment 1 has no text"},
	{"invalid UTF-8", "T\n\n  1. Ann\n\n    caf\xe9\n", 5, "invalid UTF-8"},
	{"invalid UTF-8 in title", "\xff\n", 1, "invalid UTF-8"},
	{"oversized line", "T\n\n  1. " + strings.Repeat("a", threadtext.MaxLine) + "\n", 3, "longer than"},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			th, err := threadtext.Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", th)
			}
			var pe *threadtext.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.contains) {
				t.Errorf("error = %q, want line %d and a message containing %q", err, tt.line, tt.contains)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	longest := "T\n\n  1. " + strings.Repeat("a", threadtext.MaxLine-len("  1. ")) + "\n"
	if _, err := threadtext.Parse(strings.NewReader(longest)); err != nil {
		t.Errorf("line of exactly MaxLine bytes: %v", err)
	}
	if _, err := threadtext.Parse(strings.NewReader(strings.ReplaceAll(longest, "\n", "\r\n"))); err != nil {
		t.Errorf("line of exactly MaxLine bytes ending in CRLF: %v", err)
	}

	// Many short lines, so only the input limit is hit.
	big := "T\n\n" + strings.Repeat("x\n", threadtext.MaxInput/2)
	_, err := threadtext.Parse(strings.NewReader(big))
	var pe *threadtext.ParseError
	if !errors.As(err, &pe) || pe.Line != 0 || !strings.Contains(pe.Msg, "larger than") {
		t.Errorf("oversized input: error = %v, want a *ParseError about the size", err)
	}
}

func TestParseErrorString(t *testing.T) {
	if got := (&threadtext.ParseError{Line: 3, Msg: "bad"}).Error(); got != "line 3: bad" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&threadtext.ParseError{Msg: "empty input"}).Error(); got != "empty input" {
		t.Errorf("Error() with no line = %q", got)
	}
}

type failingReader struct{}

var errRead = errors.New("disk on fire")

func (failingReader) Read([]byte) (int, error) { return 0, errRead }

func TestParseReadError(t *testing.T) {
	_, err := threadtext.Parse(failingReader{})
	if !errors.Is(err, errRead) {
		t.Errorf("error = %v, want it to wrap %v", err, errRead)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(string(seed.SocialCredit))
	for _, tt := range errorCases {
		f.Add(tt.in)
	}
	f.Add("T\n\n  1. Ann\n\n    One.\n\n    Two.\n\n\n    Orphan.\n\n  3.\n    x\n")
	f.Add("\uFEFFT\r\n\r\nS\r\n\r\n\t1. Ann\r\n\r\n\t\tHi\r\n")

	f.Fuzz(func(t *testing.T, in string) {
		th, err := threadtext.Parse(strings.NewReader(in))
		if err != nil {
			var pe *threadtext.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Line < 0 {
				t.Fatalf("error %v has negative line", err)
			}
			return
		}
		clean := func(what, s string, mayBeEmpty bool) {
			t.Helper()
			if s == "" && !mayBeEmpty {
				t.Errorf("%s is empty", what)
			}
			if !utf8.ValidString(s) {
				t.Errorf("%s %q is not valid UTF-8", what, s)
			}
			if strings.TrimFunc(s, unicode.IsSpace) != s {
				t.Errorf("%s %q has leading or trailing white space", what, s)
			}
		}
		clean("Title", th.Title, false)
		clean("Standfirst", th.Standfirst, true)
		for _, p := range th.Body {
			clean("article paragraph", p, false)
		}
		for i, c := range th.Comments {
			if c.Number != i+1 {
				t.Errorf("comment %d has Number %d", i+1, c.Number)
			}
			clean("Author", c.Author, true)
			clean("Body", c.Body, false)
			if strings.Contains(c.Author, "\n") {
				t.Errorf("Author %q spans lines", c.Author)
			}
		}
	})
}
