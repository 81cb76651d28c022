package sqlite

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

// mustOpen opens a migrated database in a fresh temporary directory.
func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"))
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

func article(tb testing.TB, db *DB, id int64) *thread.Article {
	tb.Helper()
	all, err := db.ArticlesByID(context.Background(), []int64{id})
	if err != nil || all[id] == nil {
		tb.Fatalf("article %d: %v", id, err)
	}
	return all[id]
}

func TestOpenIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twice.db")
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		var version int
		var mode string
		if err := db.read.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
			t.Fatal(err)
		}
		if err := db.read.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if version != len(names) || mode != "wal" {
			t.Errorf("open %d: user_version %d, journal_mode %s", i+1, version, mode)
		}
		db.Close()
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	db := mustOpen(t)
	if _, err := db.read.Exec("INSERT INTO sites (slug, name, created_at) VALUES ('x', 'x', 0)"); err == nil {
		t.Fatal("the read pool accepted a write")
	}
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
}

// TestPagesUseIndexes checks the plan of every page query: each must read an index range in order, never scan
// the table or sort, so that a page costs the same on a thread of a million comments.
func TestPagesUseIndexes(t *testing.T) {
	db := mustOpen(t)
	a := mustArticle(t, db)
	key := &thread.Key{LikeCount: 1, CreatedAt: 1, ID: 1}
	for _, tc := range []struct {
		name  string
		order thread.Order
		after *thread.Key
		index string
	}{
		{"top", thread.OrderTop, nil, "comments_top_level_by_likes"},
		{"top after", thread.OrderTop, key, "comments_top_level_by_likes"},
		{"newest", thread.OrderNewest, nil, "comments_top_level_by_time"},
		{"newest after", thread.OrderNewest, key, "comments_top_level_by_time"},
		{"oldest", thread.OrderOldest, nil, "comments_top_level_by_time"},
		{"oldest after", thread.OrderOldest, key, "comments_top_level_by_time"},
		{"replies", -1, key, "comments_replies_by_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cond, args, orderBy := keyset(tc.order, tc.after)
			query := fmt.Sprintf("SELECT %s FROM comments WHERE article_id = ? AND parent_id IS NULL AND %s %s ORDER BY %s LIMIT 21",
				commentColumns, listed, cond, orderBy)
			if tc.order == -1 {
				cond, args, orderBy = keyset(thread.OrderOldest, tc.after)
				query = fmt.Sprintf("SELECT %s FROM comments WHERE parent_id = ? AND %s %s ORDER BY %s LIMIT 21",
					commentColumns, listed, cond, orderBy)
			}
			rows, err := db.read.Query("EXPLAIN QUERY PLAN "+query, append([]any{a.ID}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			joined := strings.Join(plan, "; ")
			if !strings.Contains(joined, "USING INDEX "+tc.index) || strings.Contains(joined, "TEMP B-TREE") {
				t.Errorf("plan %q: want a range of %s with no sort", joined, tc.index)
			}
		})
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
	if err := db.read.QueryRow("SELECT count(*), (SELECT count(DISTINCT author_id) FROM comments) FROM readers").Scan(&readers, &authored); err != nil {
		t.Fatal(err)
	}
	if readers != 1 || authored != 1 {
		t.Errorf("%d readers, %d distinct authors; want one reader for Ann", readers, authored)
	}
}

func TestLikesCountOncePerReader(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	c := mustComment(t, db, a, 0, t0)
	r := &thread.Reader{SiteID: a.SiteID, DisplayName: "r", CreatedAt: t0}
	if err := db.CreateReader(ctx, r, []byte("hash")); err != nil {
		t.Fatal(err)
	}
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
	if _, err := db.Like(ctx, c.ID+100, r.ID); err == nil {
		t.Error("liking a missing comment succeeded")
	}
}
