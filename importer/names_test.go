package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/threadline/threadline/importer"
)

// TestImportCleansNames imports comments whose authors' names hold bidirectional controls, invisible
// characters, line breaks or too many characters: each comment is kept, under its name cleaned as a reader's
// would be, or anonymous when nothing visible is left; only comments with nothing visible are skipped. Titles
// are cleaned the same way.
func TestImportCleansNames(t *testing.T) {
	for i, tc := range []struct {
		name, want string
	}{
		{"Admin&#x202E;&#x2066; (moderator)", "Admin (moderator)"},
		{"&#x202E;nimda", "nimda"},
		{"Ad&#x200B;min&#xFEFF;", "Admin"},
		{"&#x200B;&#x3164;&#x0301;", ""},
		{"&#x2800;&#x00AD;&#xFE0F;", ""},
		{"Ann\nBell", "Ann Bell"},
		{strings.Repeat("x", 80), strings.Repeat("x", 50)},
		{"Rene&#x0301;e", "Renée"},
	} {
		t.Run(fmt.Sprint(i, " ", tc.want), func(t *testing.T) {
			db, svc := newSite(t)
			file := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><id>post</id><link>https://gazette.example/post</link><title>Top&#x202E; story&#x200B;</title><createdAt>2019-03-01T09:00:00Z</createdAt></thread>
  <post dsq:id="11"><message><![CDATA[<p>Hello.</p>]]></message><createdAt>2019-03-01T10:00:00Z</createdAt>
    <author><name>%s</name><isAnonymous>false</isAnonymous></author><thread dsq:id="1"/></post>
  <post dsq:id="12"><message><![CDATA[<p>&#x200B;&#x3164;</p>]]></message><createdAt>2019-03-01T10:01:00Z</createdAt>
    <author><name>Bo</name><isAnonymous>false</isAnonymous></author><thread dsq:id="1"/></post>
</disqus>`, tc.name)
			s, err := importer.Import(context.Background(), svc, "disqus", strings.NewReader(file), importer.Options{Site: "gazette"})
			if err != nil {
				t.Fatal(err)
			}
			got := rows(t, db)
			if len(got) != 1 || s.Skips != 1 {
				t.Fatalf("imported %+v, skipped %+v; want the visible comment and not the invisible one", got, s.Skipped)
			}
			if got[0].Author != tc.want {
				t.Errorf("author %+q, want %+q", got[0].Author, tc.want)
			}
			a, err := svc.Article(context.Background(), "gazette", "post")
			if err != nil || a.Title != "Top story" {
				t.Errorf("title %+q (%v)", a.Title, err)
			}
		})
	}
}
