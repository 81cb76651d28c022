package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/threadline/threadline/importer"
	"github.com/threadline/threadline/internal/teststore"
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

// TestImportCleansModerationTexts imports Threadline's own format edited by hand: a note with nothing visible
// becomes no note, and an appeal with nothing visible is dropped; the import does not fail.
func TestImportCleansModerationTexts(t *testing.T) {
	db, svc := newSite(t)
	file := `{"format": "threadline", "version": 1,
"articles": [{"key": "post", "title": "Post", "createdAt": "2019-03-01T09:00:00Z", "comments": [
  {"id": "c1", "author": "Spammer", "body": "Buy cheap watches", "status": "removed", "rule": "Spam", "note": "\u200b\u3164", "likes": 0, "createdAt": "2019-03-01T11:00:00Z", "moderatedAt": "2019-03-01T11:30:00Z"}]}],
"appeals": [{"comment": "c1", "text": "\u200b\u202e\u2800", "createdAt": "2019-03-01T12:00:00Z"}],
"moderation": [{"action": "remove", "article": "post", "comment": "c1", "by": "moderator", "rule": "Spam", "note": "\u00ad\ufeff", "at": "2019-03-01T11:30:00Z"}]}`
	if _, err := importer.Import(context.Background(), svc, "threadline", strings.NewReader(file), importer.Options{Site: "gazette"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT count(*) FROM comments WHERE note != ''",
		"SELECT count(*) FROM moderation_actions WHERE note != ''",
		"SELECT count(*) FROM appeals",
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%s: %d", q, n)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM comments"); n != 1 {
		t.Errorf("%d comments imported, want 1", n)
	}
}

func count(t *testing.T, db *teststore.DB, query string) int {
	t.Helper()
	var n int
	if err := db.Raw(t).QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
