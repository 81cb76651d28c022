package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// populate writes the same history into a store: imports, comments and replies, likes, an edit, a deletion
// that leaves a placeholder, reports that hold a comment, a removal, an appeal and its answer, a suspension.
func populate(t *testing.T, st thread.Store) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	site := &thread.Site{Slug: "blog", Name: "Blog", Rules: []string{"Spam", "Rudeness"}, FrameAncestors: []string{"*"}, CreatedAt: t0}
	must(st.CreateSite(ctx, site))
	_, err := st.ImportBatch(ctx, site.ID, "article:first", []thread.ImportThread{
		{SourceID: "first", Key: "first", Title: "First", URL: "https://blog.example/first", Body: "Text.", CreatedAt: t0},
	}, []thread.ImportPost{
		{SourceID: "1", ThreadID: "first", Author: "Ann", Body: "one", BodyHTML: "<p>one</p>", Status: thread.StatusPublished, CreatedAt: t0.Add(time.Second)},
		{SourceID: "2", ThreadID: "first", ParentID: "1", Author: "Bob", Body: "two", BodyHTML: "<p>two</p>", Status: thread.StatusPublished, CreatedAt: t0.Add(2 * time.Second)},
		{SourceID: "3", ThreadID: "first", Body: "three", BodyHTML: "<p>three</p>", Status: thread.StatusPublished, CreatedAt: t0.Add(2 * time.Second)},
	})
	must(err)
	a, err := st.ArticleByKey(ctx, site.ID, "first")
	must(err)
	var readers []*thread.Reader
	for i := range 3 {
		r := &thread.Reader{SiteID: site.ID, DisplayName: fmt.Sprint("reader ", i), CreatedAt: t0}
		must(st.CreateReader(ctx, r, []byte(fmt.Sprint("token ", i))))
		readers = append(readers, r)
	}
	var comments []*thread.Comment
	for i := range 6 {
		c := &thread.Comment{ArticleID: a.ID, AuthorID: readers[i%3].ID, Body: fmt.Sprint("c", i), BodyHTML: fmt.Sprintf("<p>c%d</p>", i),
			Status: thread.StatusPublished, CreatedAt: t0.Add(time.Duration(10+i/2) * time.Second)}
		if i >= 2 {
			c.ParentID = comments[i/3].ID
		}
		must(st.AddComment(ctx, c))
		comments = append(comments, c)
		for _, r := range readers[:i%3+1] {
			_, err := st.Like(ctx, c.ID, r.ID)
			must(err)
		}
	}
	_, err = st.EditComment(ctx, comments[5].ID, "edited", "<p>edited</p>", t0.Add(time.Minute))
	must(err)
	_, err = st.DeleteComment(ctx, comments[0].ID) // has replies: a placeholder
	must(err)
	for _, r := range readers[:2] {
		_, err := st.AddReport(ctx, &thread.Report{CommentID: comments[1].ID, ReaderID: r.ID, Rule: "Spam", At: t0.Add(2 * time.Minute)}, 2)
		must(err)
	}
	remove := &thread.ModerationAction{SiteID: site.ID, ArticleID: a.ID, CommentID: comments[1].ID, ReaderID: comments[1].AuthorID,
		Kind: thread.ActionRemove, Rule: "Spam", Note: "ads", Moderator: "key:1", At: t0.Add(3 * time.Minute)}
	_, err = st.Moderate(ctx, remove, &thread.StatusChange{From: []thread.Status{thread.StatusPending}, To: thread.StatusRemoved})
	must(err)
	appeal := &thread.Appeal{CommentID: comments[1].ID, AuthorID: comments[1].AuthorID, Text: "not ads", At: t0.Add(4 * time.Minute)}
	must(st.AddAppeal(ctx, appeal))
	_, err = st.Moderate(ctx, &thread.ModerationAction{SiteID: site.ID, ArticleID: a.ID, CommentID: comments[1].ID, AppealID: appeal.ID,
		Kind: thread.ActionAnswerAppeal, Decision: thread.DecisionReversed, Note: "sorry", At: t0.Add(5 * time.Minute)},
		&thread.StatusChange{From: []thread.Status{thread.StatusRemoved}, To: thread.StatusPublished})
	must(err)
	_, err = st.Moderate(ctx, &thread.ModerationAction{SiteID: site.ID, ReaderID: readers[2].ID, Kind: thread.ActionSuspend,
		Note: "rude", Until: t0.Add(24 * time.Hour), At: t0.Add(6 * time.Minute)}, nil)
	must(err)
	stats, err := st.ImportBatch(ctx, site.ID, "disqus", []thread.ImportThread{
		{SourceID: "t1", Key: "second", Title: "Second", CreatedAt: t0.Add(time.Hour)},
	}, []thread.ImportPost{
		{SourceID: "p1", ThreadID: "t1", Author: "Cy", Body: "imported", BodyHTML: "<p>imported</p>", Status: thread.StatusPublished, Likes: 4, CreatedAt: t0.Add(time.Hour)},
		{SourceID: "p2", ThreadID: "t1", ParentID: "p1", Author: "Di", Body: "reply", BodyHTML: "<p>reply</p>", Status: thread.StatusRemoved, Rule: "Spam", CreatedAt: t0.Add(2 * time.Hour), ModeratedAt: t0.Add(3 * time.Hour)},
		{SourceID: "p3", ThreadID: "t1", ParentID: "missing", Body: "orphan", BodyHTML: "<p>orphan</p>", Status: thread.StatusPublished, CreatedAt: t0.Add(2 * time.Hour)},
	})
	must(err)
	if stats != (thread.ImportStats{Threads: 1, Comments: 3, OrphanReplies: 1}) {
		t.Fatalf("import stats %+v", stats)
	}
	again, err := st.ImportBatch(ctx, site.ID, "disqus", []thread.ImportThread{{SourceID: "t1", Key: "second", CreatedAt: t0}},
		[]thread.ImportPost{{SourceID: "p1", ThreadID: "t1", Body: "x", BodyHTML: "x", Status: thread.StatusPublished, CreatedAt: t0}})
	must(err)
	if again != (thread.ImportStats{Existing: 1}) {
		t.Fatalf("second import stats %+v", again)
	}
	n, err := st.ImportModeration(ctx, site.ID, "disqus", []thread.ImportAction{
		{SourceID: "a1", ArticleKey: "second", CommentID: "p2", Kind: thread.ActionRemove, Rule: "Spam", At: t0.Add(3 * time.Hour)},
		{SourceID: "a2", ArticleKey: "second", CommentID: "p2", Kind: thread.ActionAnswerAppeal, Decision: thread.DecisionUpheld, At: t0.Add(5 * time.Hour)},
	}, []thread.ImportAppeal{{SourceID: "ap1", CommentID: "p2", Text: "why", At: t0.Add(4 * time.Hour)}})
	must(err)
	if n != 3 {
		t.Fatalf("imported %d moderation records, want 3", n)
	}
	if n, err := st.ImportModeration(ctx, site.ID, "disqus", []thread.ImportAction{{SourceID: "a1", Kind: thread.ActionRemove, At: t0}}, nil); err != nil || n != 0 {
		t.Fatalf("importing moderation again: %d, %v", n, err)
	}
	_, _, err = st.DeleteReader(ctx, readers[1].ID)
	must(err)
}

// dump returns everything a store's export and reads show of the site, as text.
func dump(t *testing.T, st thread.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	site, err := st.SiteBySlug(ctx, "blog")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "site %+v\n", *site)
	err = st.ExportSite(ctx, site.ID, "", thread.ExportVisitor{
		Article: func(a *thread.Article) error { _, err := fmt.Fprintf(&b, "article %+v\n", *a); return err },
		Comment: func(c *thread.Comment, author string) error {
			_, err := fmt.Fprintf(&b, "comment %q %+v\n", author, *c)
			return err
		},
		Action: func(a *thread.ModerationAction, key string) error {
			_, err := fmt.Fprintf(&b, "action %q %+v\n", key, *a)
			return err
		},
		Appeal: func(a *thread.Appeal) error { _, err := fmt.Fprintf(&b, "appeal %+v\n", *a); return err },
	})
	if err != nil {
		t.Fatal(err)
	}
	totals, err := st.ModerationTotals(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "totals %+v\n", totals)
	for _, id := range []int64{1, 2, 3, 4, 5} {
		d, err := st.ReaderData(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "reader %d: %d comments, likes %v, %d reports, %d appeals\n", id, len(d.Comments), d.Likes, len(d.Reports), len(d.Appeals))
	}
	return b.String()
}

// TestSameHistoryReadsTheSameOnBothStores: the same calls on SQLite and on PostgreSQL leave the same site:
// every value of every article, comment, action and appeal, in the export's order, and the same counts; so an
// export from either reads the same.
func TestSameHistoryReadsTheSameOnBothStores(t *testing.T) {
	pg := mustOpen(t)
	lite, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "threadline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	populate(t, lite)
	populate(t, pg)
	want, got := dump(t, lite), dump(t, pg)
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\nPostgreSQL %s\nSQLite     %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("PostgreSQL has %d lines, SQLite %d", len(gl), len(wl))
	}
	t.Logf("%d lines alike", strings.Count(got, "\n"))
}

// TestExportIsOneSnapshot: what is written while an export runs is not in it, and the writes do not wait for it.
func TestExportIsOneSnapshot(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	second := importArticle(t, db, &thread.Article{SiteID: a.SiteID, Key: "second", CreatedAt: t0.Add(time.Hour)})
	mustComment(t, db, a, 0, t0)
	comments, articles := 0, 0
	err := db.ExportSite(ctx, a.SiteID, "", thread.ExportVisitor{
		Article: func(*thread.Article) error {
			articles++
			if articles == 1 { // written mid-export, and committed at once
				c := &thread.Comment{ArticleID: second.ID, Body: "late", BodyHTML: "<p>late</p>", Status: thread.StatusPublished, CreatedAt: t0}
				if err := db.AddComment(ctx, c); err != nil {
					return err
				}
				return db.CreateSite(ctx, &thread.Site{Slug: "late", Name: "Late", CreatedAt: t0})
			}
			return nil
		},
		Comment: func(*thread.Comment, string) error { comments++; return nil },
		Action:  func(*thread.ModerationAction, string) error { return nil },
		Appeal:  func(*thread.Appeal) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if articles != 2 || comments != 1 {
		t.Fatalf("the export saw %d articles and %d comments; want 2 and 1, as when it began", articles, comments)
	}
	if got := article(t, db, second.ID); got.CommentCount != 1 {
		t.Fatalf("the comment written during the export: %+v", got)
	}
}
