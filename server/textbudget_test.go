package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestHugeAnswersAreCut: the complexity limit bounds rows, not their size, so a query of many aliases of a
// page of long comments would answer gigabytes. One response holds at most 8 MiB of text; past it, fields
// answer null with QUERY_TOO_COMPLEX. A reader's export of their own comments is not cut.
func TestHugeAnswersAreCut(t *testing.T) {
	s := newTestServer(t)
	article := s.articleID(t)
	_, token := s.newReader(t, "Long")
	big := strings.Repeat("\U0001F600", 10_000) // 40 KB of body, as much of HTML
	const comments = 110                        // 8.8 MB as body and HTML
	for range comments {
		s.addComment(t, token, article, "", big)
	}

	aliases := ""
	for i := range 12 {
		aliases += fmt.Sprintf(" c%d: comments(first: 11, orderBy: NEWEST) { nodes { body bodyHTML } }", i)
	}
	r := s.do(t, "", `{ article(site: "demo", key: "social-credit") {`+aliases+` } }`, nil)
	if r.code() != "QUERY_TOO_COMPLEX" || len(r.Errors) > 20 {
		t.Errorf("12 pages of 11 long comments (10 MB): %d errors, the first %q", len(r.Errors), r.code())
	}
	if len(r.Data) > 9<<20 {
		t.Errorf("the data is %d bytes", len(r.Data))
	}

	var own struct {
		ExportMyData struct {
			Comments []struct{ Body, BodyHTML string }
		}
	}
	s.mustDo(t, token, `{ exportMyData { comments { body bodyHTML } } }`, nil, &own)
	if n := len(own.ExportMyData.Comments); n != comments || own.ExportMyData.Comments[n-1].Body != big {
		t.Errorf("the export has %d comments, want %d in full", n, comments)
	}
	r = s.do(t, token, `{ exportMyData { comments { article { comments(first: 100) { nodes { body } } } } } }`, nil)
	if r.code() != "QUERY_TOO_COMPLEX" {
		t.Errorf("other readers' text through the export (440 MB): %d errors, the first %q", len(r.Errors), r.code())
	}
}
