package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/thread"
)

// mustOpen opens a migrated database of the test's own.
func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), pgtest.URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// mustArticle creates a site and an empty article and returns the article.
func mustArticle(tb testing.TB, db *DB) *thread.Article {
	tb.Helper()
	ctx := context.Background()
	site := &thread.Site{Slug: "s", Name: "S", CreatedAt: t0}
	if err := db.CreateSite(ctx, site); err != nil {
		tb.Fatal(err)
	}
	return importArticle(tb, db, &thread.Article{SiteID: site.ID, Key: "k", Title: "T", CreatedAt: t0})
}

// importArticle creates an empty article as the importer does, and returns it as stored.
func importArticle(tb testing.TB, db *DB, a *thread.Article) *thread.Article {
	tb.Helper()
	ctx := context.Background()
	t := thread.ImportThread{SourceID: a.Key, Key: a.Key, Title: a.Title, URL: a.URL, CreatedAt: a.CreatedAt}
	if _, err := db.ImportBatch(ctx, a.SiteID, "test", []thread.ImportThread{t}, nil); err != nil {
		tb.Fatal(err)
	}
	got, err := db.ArticleByKey(ctx, a.SiteID, a.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func mustComment(tb testing.TB, db *DB, a *thread.Article, parent int64, at time.Time) *thread.Comment {
	tb.Helper()
	c := &thread.Comment{ArticleID: a.ID, ParentID: parent, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: at}
	if err := db.AddComment(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

func mustReader(tb testing.TB, db *DB, siteID int64, name string) *thread.Reader {
	tb.Helper()
	r := &thread.Reader{SiteID: siteID, DisplayName: name, CreatedAt: t0}
	if err := db.CreateReader(context.Background(), r, []byte("token of "+name)); err != nil {
		tb.Fatal(err)
	}
	return r
}

func article(tb testing.TB, db *DB, id int64) *thread.Article {
	tb.Helper()
	all, err := db.ArticlesByID(context.Background(), []int64{id})
	if err != nil || all[id] == nil {
		tb.Fatalf("article %d: %v", id, err)
	}
	return all[id]
}

func TestSiteSlugConflict(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	if err := db.CreateSite(ctx, &thread.Site{Slug: "a", Name: "A", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	err := db.CreateSite(ctx, &thread.Site{Slug: "a", Name: "Again", CreatedAt: t0})
	if thread.ErrorCode(err) != thread.CodeConflict {
		t.Fatalf("got %v, want CONFLICT", err)
	}
	if _, err := db.SiteBySlug(ctx, "missing"); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("got %v, want NOT_FOUND", err)
	}
	if err := db.UpdateSite(ctx, &thread.Site{ID: 999, Name: "x"}); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("update of a missing site: got %v, want NOT_FOUND", err)
	}
}

func TestSiteSettingsRoundTrip(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	s := &thread.Site{Slug: "b", Name: "B", FrameAncestors: []string{"https://a.example", "https://b.example"}, Premoderation: true,
		EditWindow: 15 * time.Minute, Rules: []string{"Spam", "Rudeness"}, SigningSecret: "secret", ReportThreshold: 2,
		NoEmbedArticles: true, EmbedArticlesPerHour: 7, CreatedAt: t0}
	if err := db.CreateSite(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.SiteBySlug(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", s) {
		t.Fatalf("read back %+v\nwrote     %+v", got, s)
	}
	s.Rules, s.FrameAncestors, s.Premoderation = nil, []string{"*"}, false
	if err := db.UpdateSite(ctx, s); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListSites(ctx)
	if err != nil || len(list) != 1 || len(list[0].Rules) != 0 || list[0].FrameAncestors[0] != "*" || list[0].Premoderation {
		t.Fatalf("after update: %+v, %v", list, err)
	}
}

func TestKeysetPagesSeeEachCommentOnce(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	// Equal times and equal like counts on purpose: the ID must break every tie.
	var all []*thread.Comment
	for i := range 23 {
		all = append(all, mustComment(t, db, a, 0, t0.Add(time.Duration(i/3)*time.Second)))
	}
	for i, c := range all {
		for r := range i % 4 {
			reader := &thread.Reader{SiteID: a.SiteID, DisplayName: "r", CreatedAt: t0}
			if err := db.CreateReader(ctx, reader, []byte(fmt.Sprint(i, r))); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Like(ctx, c.ID, reader.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, o := range []thread.Order{thread.OrderTop, thread.OrderNewest, thread.OrderOldest} {
		seen := map[int64]bool{}
		var after *thread.Key
		var prev *thread.Comment
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("%v: more pages than comments", o)
			}
			list, err := db.TopLevelComments(ctx, a.ID, thread.PageRequest{Order: o, First: 5, After: after})
			if err != nil {
				t.Fatal(err)
			}
			page := list[:min(5, len(list))]
			for _, c := range page {
				if seen[c.ID] {
					t.Fatalf("%v: comment %d seen twice", o, c.ID)
				}
				seen[c.ID] = true
				if prev != nil && !before(o, prev, c) {
					t.Fatalf("%v: comment %d came before %d", o, prev.ID, c.ID)
				}
				prev = c
			}
			if len(list) <= 5 {
				break
			}
			k := thread.KeyOf(page[len(page)-1])
			after = &k
		}
		if len(seen) != len(all) {
			t.Errorf("%v: saw %d of %d comments", o, len(seen), len(all))
		}
	}
}

// before reports whether a sorts before b in order o.
func before(o thread.Order, a, b *thread.Comment) bool {
	ta, tb := a.CreatedAt.UnixMilli(), b.CreatedAt.UnixMilli()
	switch o {
	case thread.OrderTop:
		if a.LikeCount != b.LikeCount {
			return a.LikeCount > b.LikeCount
		}
		return ta < tb || ta == tb && a.ID < b.ID
	case thread.OrderNewest:
		return ta > tb || ta == tb && a.ID > b.ID
	}
	return ta < tb || ta == tb && a.ID < b.ID
}

func TestRepliesPagePerParent(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	p1, p2, p3 := mustComment(t, db, a, 0, t0), mustComment(t, db, a, 0, t0), mustComment(t, db, a, 0, t0)
	for i := range 5 {
		mustComment(t, db, a, p1.ID, t0.Add(time.Duration(5-i)*time.Second)) // written newest first
	}
	mustComment(t, db, a, p2.ID, t0)
	got, err := db.Replies(ctx, []int64{p3.ID, p2.ID, p1.ID}, thread.PageRequest{First: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[p1.ID]) != 3 || len(got[p2.ID]) != 1 || len(got[p3.ID]) != 0 {
		t.Fatalf("replies per parent: %d, %d, %d; want 3, 1, 0", len(got[p1.ID]), len(got[p2.ID]), len(got[p3.ID]))
	}
	for i := 1; i < 3; i++ {
		if !before(thread.OrderOldest, got[p1.ID][i-1], got[p1.ID][i]) {
			t.Fatalf("replies out of order: %+v", got[p1.ID])
		}
	}
	k := thread.KeyOf(got[p1.ID][1])
	rest, err := db.Replies(ctx, []int64{p1.ID}, thread.PageRequest{First: 10, After: &k})
	if err != nil || len(rest[p1.ID]) != 3 {
		t.Fatalf("after the second reply: %d replies, %v; want 3", len(rest[p1.ID]), err)
	}
	if parent := article(t, db, a.ID); parent.CommentCount != 9 || parent.TopLevelCount != 3 {
		t.Fatalf("counts %d/%d, want 9/3", parent.CommentCount, parent.TopLevelCount)
	}
}

func TestDeleteKeepsPlaceholdersOnlyWhileTheyHaveReplies(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	root := mustComment(t, db, a, 0, t0)
	child := mustComment(t, db, a, root.ID, t0.Add(time.Second))
	grandchild := mustComment(t, db, a, child.ID, t0.Add(2*time.Second))
	if got := article(t, db, a.ID); got.CommentCount != 3 || got.TopLevelCount != 1 {
		t.Fatalf("counts %d/%d, want 3/1", got.CommentCount, got.TopLevelCount)
	}

	// Root and child have replies: they stay as placeholders.
	for _, c := range []*thread.Comment{root, child} {
		p, err := db.DeleteComment(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p == nil || p.Status != thread.StatusDeleted || p.Body != "" || p.BodyHTML != "" || p.AuthorID != 0 {
			t.Fatalf("placeholder of %d: %+v", c.ID, p)
		}
	}
	if got := article(t, db, a.ID); got.CommentCount != 1 || got.TopLevelCount != 1 {
		t.Fatalf("after placeholders: counts %d/%d, want 1/1", got.CommentCount, got.TopLevelCount)
	}
	if _, err := db.DeleteComment(ctx, root.ID); thread.ErrorCode(err) != thread.CodeConflict {
		t.Fatalf("deleting a placeholder: %v, want CONFLICT", err)
	}

	// Deleting the last reply removes it and both placeholders above it.
	p, err := db.DeleteComment(ctx, grandchild.ID)
	if err != nil || p != nil {
		t.Fatalf("delete grandchild: %+v, %v", p, err)
	}
	left, err := db.CommentsByID(ctx, []int64{root.ID, child.ID, grandchild.ID})
	if err != nil || len(left) != 0 {
		t.Fatalf("rows left: %v, %v", left, err)
	}
	if got := article(t, db, a.ID); got.CommentCount != 0 || got.TopLevelCount != 0 {
		t.Fatalf("after all: counts %d/%d, want 0/0", got.CommentCount, got.TopLevelCount)
	}
	if _, err := db.DeleteComment(ctx, root.ID); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("deleting a missing comment: %v, want NOT_FOUND", err)
	}
}

func TestImportBatchIsIdempotent(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	site := &thread.Site{Slug: "s", Name: "S", CreatedAt: t0}
	if err := db.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	threads := []thread.ImportThread{{SourceID: "k", Key: "k", Title: "T", CreatedAt: t0}}
	posts := []thread.ImportPost{
		{SourceID: "1", ThreadID: "k", Author: "Ann", Body: "one", BodyHTML: "<p>one</p>", Status: thread.StatusPublished, CreatedAt: t0},
		{SourceID: "2", ThreadID: "k", ParentID: "1", Author: "Ann", Body: "two", BodyHTML: "<p>two</p>", Status: thread.StatusPublished, CreatedAt: t0.Add(time.Second)},
		{SourceID: "3", ThreadID: "k", Body: "three", BodyHTML: "<p>three</p>", Status: thread.StatusPublished, CreatedAt: t0.Add(2 * time.Second)},
	}
	for i, want := range []thread.ImportStats{{Threads: 1, Comments: 3}, {Existing: 3}} {
		st, err := db.ImportBatch(ctx, site.ID, "test", threads, posts)
		if err != nil || st != want {
			t.Fatalf("import %d: %+v, %v; want %+v", i+1, st, err, want)
		}
	}
	a, err := db.ArticleByKey(ctx, site.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	if a.CommentCount != 3 || a.TopLevelCount != 2 {
		t.Errorf("counts %d/%d, want 3/2", a.CommentCount, a.TopLevelCount)
	}
	var readers, authored int
	if err := db.pool.QueryRow(ctx, "SELECT count(*), (SELECT count(DISTINCT author_id) FROM comments) FROM readers").Scan(&readers, &authored); err != nil {
		t.Fatal(err)
	}
	if readers != 1 || authored != 1 {
		t.Errorf("%d readers, %d distinct authors; want one reader for Ann", readers, authored)
	}
	if _, err := db.ArticleByKey(ctx, site.ID, "missing"); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Errorf("a missing article: %v, want NOT_FOUND", err)
	}
}

func TestLikesCountOncePerReader(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	c := mustComment(t, db, a, 0, t0)
	r := mustReader(t, db, a.SiteID, "r")
	for i, step := range []struct {
		like bool
		want int
	}{{true, 1}, {true, 1}, {false, 0}, {false, 0}, {true, 1}} {
		change := db.Unlike
		if step.like {
			change = db.Like
		}
		got, err := change(ctx, c.ID, r.ID)
		if err != nil || got.LikeCount != step.want {
			t.Fatalf("step %d: like count %v, %v; want %d", i, got, err, step.want)
		}
	}
	if _, err := db.Like(ctx, c.ID+100, r.ID); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Errorf("liking a missing comment: %v, want NOT_FOUND", err)
	}
	if _, err := db.Unlike(ctx, c.ID+100, r.ID); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Errorf("unliking a missing comment: %v, want NOT_FOUND", err)
	}
	liked, err := db.Liked(ctx, r.ID, []int64{c.ID, c.ID + 100})
	if err != nil || !liked[c.ID] || len(liked) != 1 {
		t.Errorf("liked: %v, %v", liked, err)
	}
}

// TestConcurrentLikesCountExactly: readers liking one comment at once (and each twice) leave exactly one like
// each, as SQLite's single writer does; PostgreSQL's row locks and the primary key do it here.
func TestConcurrentLikesCountExactly(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	c := mustComment(t, db, a, 0, t0)
	const n = 40
	readers := make([]*thread.Reader, n)
	for i := range readers {
		readers[i] = mustReader(t, db, a.SiteID, fmt.Sprint("r", i))
	}
	errs := make(chan error, 2*n)
	for _, r := range readers {
		for range 2 {
			go func() {
				_, err := db.Like(ctx, c.ID, r.ID)
				errs <- err
			}()
		}
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.CommentsByID(ctx, []int64{c.ID})
	if err != nil || got[c.ID].LikeCount != n {
		t.Fatalf("like count %d (%v), want %d", got[c.ID].LikeCount, err, n)
	}
}

// TestCreateEmbeddedArticleCountsOnlyRecentEmbeds: the bound counts the articles the site's embeds created
// since the given time, not those its owner imported, not another site's, not older ones; a key the site has
// creates nothing; and the site's settings for it are kept.
func TestCreateEmbeddedArticleCountsOnlyRecentEmbeds(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	site := &thread.Site{Slug: "blog", Name: "Blog", CreatedAt: t0, NoEmbedArticles: true, EmbedArticlesPerHour: 3}
	other := &thread.Site{Slug: "other", Name: "Other", CreatedAt: t0}
	for _, s := range []*thread.Site{site, other} {
		if err := db.CreateSite(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := db.SiteBySlug(ctx, "blog"); err != nil || !got.NoEmbedArticles || got.EmbedArticlesPerHour != 3 {
		t.Fatalf("settings read back as %+v (%v)", got, err)
	}
	if got, err := db.SiteBySlug(ctx, "other"); err != nil || got.NoEmbedArticles || got.EmbedArticlesPerHour != thread.DefaultEmbedArticlesPerHour {
		t.Fatalf("a site made without the settings reads back as %+v (%v)", got, err)
	}
	embedded := func(siteID int64, key string, at time.Time) (bool, bool) {
		t.Helper()
		created, full, err := db.CreateEmbeddedArticle(ctx, &thread.Article{SiteID: siteID, Key: key, Title: key, CreatedAt: at}, t0.Add(-time.Hour), 3)
		if err != nil {
			t.Fatal(err)
		}
		return created, full
	}
	embedded(site.ID, "old", t0.Add(-2*time.Hour)) // before the window
	for i := range 5 {                             // the owner's, and another site's: not counted
		importArticle(t, db, &thread.Article{SiteID: site.ID, Key: fmt.Sprint("imported-", i), CreatedAt: t0})
		embedded(other.ID, fmt.Sprint("elsewhere-", i), t0)
	}
	for i, want := range []struct{ created, full bool }{{true, false}, {true, false}, {true, false}, {false, true}} {
		if created, full := embedded(site.ID, fmt.Sprint("new-", i), t0); created != want.created || full != want.full {
			t.Errorf("embed %d: created %v, full %v; want %v, %v", i, created, full, want.created, want.full)
		}
	}
	for _, key := range []string{"new-0", "imported-0"} {
		if created, full := embedded(site.ID, key, t0); created || full {
			t.Errorf("the existing key %s under a full bound: created %v, full %v; want neither", key, created, full)
		}
	}
}

// TestConcurrentEmbedsHoldTheBound: first embeds racing on several servers create no more than the bound, and
// one article per key.
func TestConcurrentEmbedsHoldTheBound(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	site := &thread.Site{Slug: "blog", Name: "Blog", CreatedAt: t0}
	if err := db.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	const tries, limit = 20, 5
	type result struct {
		created bool
		err     error
	}
	results := make(chan result, 2*tries)
	for i := range tries {
		for range 2 { // each key twice at once
			go func() {
				created, _, err := db.CreateEmbeddedArticle(ctx, &thread.Article{SiteID: site.ID, Key: fmt.Sprint("k", i), CreatedAt: t0}, t0.Add(-time.Hour), limit)
				results <- result{created, err}
			}()
		}
	}
	created := 0
	for range 2 * tries {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.created {
			created++
		}
	}
	var rows int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM articles").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if created != limit || rows != limit {
		t.Fatalf("%d reported created, %d articles; want %d", created, rows, limit)
	}
}
