package importer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/importer"
	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/thread"
)

// newSite opens a database with the site "gazette".
func newSite(t *testing.T) (*teststore.DB, *thread.Service) {
	t.Helper()
	db, svc := teststore.Open(t)
	if _, _, _, err := svc.CreateSite(context.Background(), "gazette", thread.SiteSettings{Name: "The Gazette"}); err != nil {
		t.Fatal(err)
	}
	return db, svc
}

func importFile(t *testing.T, svc *thread.Service, format, file string, dryRun bool) (*importer.Summary, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return importer.Import(context.Background(), svc, format, f, importer.Options{Site: "gazette", DryRun: dryRun})
}

// row is an imported comment as the database holds it.
type row struct {
	Key, Body, HTML, Status, Rule, Author string
	Depth, Parent                         int
}

// rows reads every comment straight from the database, oldest first.
func rows(t *testing.T, db *teststore.DB) []row {
	t.Helper()
	rs, err := db.Raw(t).Query(`SELECT a.key, c.body, c.body_html, c.status, c.rule, coalesce(r.display_name, ''), c.depth,
		coalesce((SELECT count(*) FROM comments AS p WHERE p.id = c.parent_id), 0)
		FROM comments AS c JOIN articles AS a ON a.id = c.article_id LEFT JOIN readers AS r ON r.id = c.author_id ORDER BY c.created_at, c.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Key, &r.Body, &r.HTML, &r.Status, &r.Rule, &r.Author, &r.Depth, &r.Parent); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// dbHolds reports whether the database holds s anywhere at rest.
func dbHolds(t *testing.T, db *teststore.DB, s string) bool {
	t.Helper()
	for _, b := range db.Contents(t) {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestImportFormats(t *testing.T) {
	for _, tc := range []struct {
		format, file                      string
		threads, comments, skips, orphans int
		want                              []row // in time order
		private                           []string
	}{
		{"disqus", "disqus.xml", 2, 6, 3, 1, []row{
			{Key: "social-credit", Body: "It’s a spiritual war. **Do not** give them the power.", Status: "published", Author: "Lianne Abrahams"},
			{Key: "social-credit", Status: "published", Author: "ИОСИФ Joseph", Depth: 1, Parent: 1},
			{Key: "social-credit", Body: "A reply to the reply 🎥", Status: "published", Depth: 2, Parent: 1},
			{Key: "social-credit", Body: "Buy cheap watches", Status: "removed", Rule: importer.RuleSpam, Author: "Spammer"},
			{Key: "social-credit", Body: "I regret this.", Status: "removed", Rule: importer.RuleDeleted, Author: "Regretful"},
			{Key: "https://gazette.example/cameras", Body: "My parent was lost.", Status: "published", Author: "Orphan"},
		}, []string{"lianne@mail.example", "203.0.113.45", "ivan@mail.example", "198.51.100.99", "spam@spam.example"}},
		{"wxr", "wordpress.xml", 2, 7, 1, 1, []row{
			{Key: "social-credit", Body: "First paragraph.\n\nSecond paragraph,  \nwith a line break & an ampersand.", Status: "published", Author: "Lianne Abrahams"},
			{Key: "social-credit", Status: "published", Author: "ИОСИФ Joseph", Depth: 1, Parent: 1},
			{Key: "social-credit", Body: "An anonymous reply to a reply.", Status: "published", Depth: 2, Parent: 1},
			{Key: "social-credit", Body: "Not approved yet.", Status: "pending", Author: "Waiting"},
			{Key: "social-credit", Body: "Buy cheap watches", Status: "removed", Rule: importer.RuleSpam, Author: "Spammer"},
			{Key: "social-credit", Body: "Trashed.", Status: "removed", Rule: importer.RuleDeleted, Author: "Regretful"},
			{Key: "social-credit", Body: "My parent is gone.", Status: "published", Author: "Orphan"},
		}, []string{"lianne@mail.example", "203.0.113.45", "ivan@mail.example", "198.51.100.99", "spam@spam.example"}},
		{"threadline", "threadline.json", 2, 7, 1, 1, []row{
			{Key: "social-credit", Body: "It’s a spiritual war. **Do not** give them the power.", Status: "published", Author: "Lianne Abrahams"},
			{Key: "social-credit", Status: "published", Author: "ИОСИФ Joseph", Depth: 1, Parent: 1},
			{Key: "social-credit", Body: "An anonymous reply to the reply", Status: "published", Depth: 2, Parent: 1},
			{Key: "social-credit", Body: "Buy cheap watches", Status: "removed", Rule: "Spam", Author: "Spammer"},
			{Key: "social-credit", Status: "deleted"},
			{Key: "social-credit", Body: "A reply to a deleted comment", Status: "published", Author: "Bo", Depth: 1, Parent: 1},
			{Key: "social-credit", Body: "My parent was lost", Status: "published", Author: "Orphan"},
		}, nil},
	} {
		t.Run(tc.format, func(t *testing.T) {
			db, svc := newSite(t)
			s, err := importFile(t, svc, tc.format, tc.file, false)
			if err != nil {
				t.Fatal(err)
			}
			if s.Threads != tc.threads || s.Comments != tc.comments || s.Skips != tc.skips || s.OrphanReplies != tc.orphans {
				t.Errorf("summary: %+v", s)
			}
			got := rows(t, db)
			if len(got) != len(tc.want) {
				t.Fatalf("%d comments imported, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Key != w.Key || (w.Body != "" && g.Body != w.Body) || g.Status != w.Status || g.Rule != w.Rule ||
					g.Author != w.Author || g.Depth != w.Depth || g.Parent != w.Parent {
					t.Errorf("comment %d: %+v\nwant %+v", i, g, w)
				}
				for _, bad := range []string{"<script", "onerror", "<img"} { // an image becomes a link, never loaded
					if strings.Contains(g.HTML, bad) {
						t.Errorf("comment %d kept %q: %s", i, bad, g.HTML)
					}
				}
			}
			for _, p := range tc.private {
				if dbHolds(t, db, p) {
					t.Errorf("the database holds %q from the source", p)
				}
			}
			// Again: nothing changes.
			again, err := importFile(t, svc, tc.format, tc.file, false)
			if err != nil {
				t.Fatal(err)
			}
			if again.Comments != 0 || again.Threads != 0 || again.Existing != tc.comments || len(rows(t, db)) != len(tc.want) {
				t.Errorf("a second import: %+v", again)
			}
		})
	}
}

func TestImportRefusesAnotherFormatAndDryRunWritesNothing(t *testing.T) {
	db, svc := newSite(t)
	for _, tc := range []struct{ format, file, says string }{
		{"wxr", "disqus.xml", "not a WordPress export"},
		{"disqus", "wordpress.xml", "not a Disqus export"},
		{"threadline", "disqus.xml", "not a Threadline export"},
	} {
		if _, err := importFile(t, svc, tc.format, tc.file, false); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s read as %s: %v", tc.file, tc.format, err)
		}
	}
	s, err := importFile(t, svc, "disqus", "disqus.xml", true)
	if err != nil || s.Comments != 6 || !s.DryRun {
		t.Errorf("dry run: %+v, %v", s, err)
	}
	if n := len(rows(t, db)); n != 0 {
		t.Errorf("%d comments written", n)
	}
	if _, err := importer.Import(context.Background(), svc, "csv", strings.NewReader(""), importer.Options{Site: "gazette"}); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// TestExportImportExportIsIdentical exports a site with comments, replies, moderation and an appeal, imports
// the file into an empty database (which the import gives the site), and exports that: the two files are the
// same, byte for byte.
func TestExportImportExportIsIdentical(t *testing.T) {
	ctx := context.Background()
	_, svc := newSite(t)
	if _, err := importFile(t, svc, "disqus", "disqus.xml", false); err != nil {
		t.Fatal(err)
	}
	key, err := svc.AddModeratorKey(ctx, "gazette", "Mo")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := svc.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	reader, _, err := svc.CreateReader(ctx, "gazette", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	article, err := svc.Article(ctx, "gazette", "social-credit")
	if err != nil {
		t.Fatal(err)
	}
	as := thread.WithViewer(ctx, reader)
	c, err := svc.AddComment(as, thread.NewComment{ArticleID: article.ID, Body: "Smash the cameras"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LikeComment(as, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveComment(mod, c.ID, "Threat of violence", "Say it without the threat."); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AppealModeration(as, c.ID, "A figure of speech."); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.AnswerAppeal(mod, c.ID, thread.DecisionUpheld, "It reads as a threat."); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetArticleLocked(mod, article.ID, true, "Closed."); err != nil {
		t.Fatal(err)
	}

	var first bytes.Buffer
	if err := archive.Write(ctx, svc, "gazette", "", &first); err != nil {
		t.Fatal(err)
	}
	_, fresh := teststore.Open(t)
	s, err := importer.Import(ctx, fresh, "threadline", bytes.NewReader(first.Bytes()), importer.Options{Site: "gazette"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.SiteCreated || s.Moderation == 0 {
		t.Errorf("summary: %+v", s)
	}
	var second bytes.Buffer
	if err := archive.Write(ctx, fresh, "gazette", "", &second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("the export of the import differs:\n%s\n---\n%s", first.String(), second.String())
	}
	if !strings.Contains(first.String(), `"rule":"Threat of violence"`) || !strings.Contains(first.String(), `"appeals"`) ||
		!strings.Contains(first.String(), `"action":"answer_appeal"`) || strings.Contains(first.String(), key) {
		t.Errorf("the export lacks moderation, or holds the key:\n%s", first.String())
	}
}
