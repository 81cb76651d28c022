package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/thread"
)

// recorder is a pgx tracer that keeps the last statement the store ran, with its arguments.
type recorder struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if strings.Contains(data.SQL, "pg_notify") {
		return ctx // the notifier's, after the writes that set the test up
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sql, r.args = data.SQL, data.Args
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) last() (string, []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sql, r.args
}

// TestPagesUseIndexes reads the plan of the statement each page method runs (the store's own text and
// arguments, captured as it runs): every page must be a range of its index, read in the page's order, with no
// sort of the comments and no scan of a table. The thread is large enough (20,000 comments, 4,000 actions,
// analyzed) that the planner chooses by cost, as in production: nothing is turned off.
func TestPagesUseIndexes(t *testing.T) {
	rec := &recorder{}
	db, err := open(context.Background(), pgtest.URL(t), shipped(t), func(c *pgxpool.Config) { c.ConnConfig.Tracer = rec })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	a := mustArticle(t, db)
	other := importArticle(t, db, &thread.Article{SiteID: a.SiteID, Key: "other", CreatedAt: t0})
	r := mustReader(t, db, a.SiteID, "r")
	// Written in bulk, beneath the store: a site of 1,000 articles, two of them with 5,000 top-level comments
	// and 5,000 replies each, a few of those reported, and a long moderation log.
	arts := []int64{a.ID, other.ID}
	for _, step := range []struct {
		stmt string
		args []any
	}{
		{`INSERT INTO articles (site_id, key, created_at) SELECT $1, 'a' || i, 1793534400000 FROM generate_series(1, 998) AS i`, []any{a.SiteID}},
		{`INSERT INTO comments (article_id, body, body_html, status, depth, like_count, created_at, report_count)
			SELECT art, 'b', '<p>b</p>', 'published', 0, i % 7, 1793534400000 + i * 1000, (i % 500 = 0)::int
			FROM generate_series(1, 5000) AS i, unnest($1::bigint[]) AS art`, []any{arts}},
		{`INSERT INTO comments (article_id, parent_id, body, body_html, status, depth, created_at)
			SELECT article_id, id, 'r', '<p>r</p>', 'published', 1, created_at + 500 FROM comments WHERE parent_id IS NULL`, nil},
		{`INSERT INTO moderation_actions (site_id, article_id, action, by_role, created_at)
			SELECT $2, art, 'lock', 'moderator', 1793534400000 + i FROM generate_series(1, 2000) AS i, unnest($1::bigint[]) AS art`, []any{arts, a.SiteID}},
		{`ANALYZE`, nil},
	} {
		if _, err := db.pool.Exec(ctx, step.stmt, step.args...); err != nil {
			t.Fatalf("%s: %v", step.stmt, err)
		}
	}
	var top []int64
	rows, err := db.pool.Query(ctx, "SELECT id FROM comments WHERE article_id = $1 AND parent_id IS NULL ORDER BY id LIMIT 50", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if top, err = int64s(rows); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddReport(ctx, &thread.Report{CommentID: top[0], ReaderID: r.ID, Rule: "Spam", At: t0}, 10); err != nil {
		t.Fatal(err)
	}
	key := &thread.Key{LikeCount: 3, CreatedAt: 1793534400000 + 2500*1000, ID: top[10]}
	for _, tc := range []struct {
		name  string
		run   func() error
		index string
		sort  bool // a sort of the page's few rows, after the index has served them
	}{
		{"top", pageOf(ctx, db, a.ID, thread.OrderTop, nil), "comments_top_level_by_likes", false},
		{"top after", pageOf(ctx, db, a.ID, thread.OrderTop, key), "comments_top_level_by_likes", false},
		{"newest", pageOf(ctx, db, a.ID, thread.OrderNewest, nil), "Index Scan Backward using comments_top_level_by_time", false},
		{"newest after", pageOf(ctx, db, a.ID, thread.OrderNewest, key), "Index Scan Backward using comments_top_level_by_time", false},
		{"oldest", pageOf(ctx, db, a.ID, thread.OrderOldest, nil), "Index Scan using comments_top_level_by_time", false},
		{"oldest after", pageOf(ctx, db, a.ID, thread.OrderOldest, key), "Index Scan using comments_top_level_by_time", false},
		// The replies of every parent in one statement: one index range per parent, then the rows in parents' order.
		{"replies", func() error { _, err := db.Replies(ctx, top, thread.PageRequest{First: 3}); return err }, "comments_replies_by_time", true},
		{"replies after", func() error { _, err := db.Replies(ctx, top, thread.PageRequest{First: 3, After: key}); return err }, "comments_replies_by_time", true},
		{"moderation queue", func() error {
			_, _, err := db.ModerationQueue(ctx, a.SiteID, 0, thread.PageRequest{First: 5})
			return err
		}, "comments_queue", false},
		{"moderation queue after", func() error {
			_, _, err := db.ModerationQueue(ctx, a.SiteID, 0, thread.PageRequest{First: 5, After: key})
			return err
		}, "comments_queue", false},
		{"moderation queue of an article", func() error {
			_, _, err := db.ModerationQueue(ctx, a.SiteID, a.ID, thread.PageRequest{First: 5})
			return err
		}, "comments_queue_by_article", false},
		{"moderation queue of an article after", func() error {
			_, _, err := db.ModerationQueue(ctx, a.SiteID, a.ID, thread.PageRequest{First: 5, After: key})
			return err
		}, "comments_queue_by_article", false},
		{"moderation log", func() error { _, err := db.ModerationLog(ctx, a.ID, 0, 5); return err }, "Index Scan Backward using moderation_actions_by_article", false},
		{"moderation log before", func() error { _, err := db.ModerationLog(ctx, a.ID, 1<<40, 5); return err }, "Index Scan Backward using moderation_actions_by_article", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			query, args := rec.last()
			// The plan for the values given, and the generic one a prepared statement may settle on after a few runs.
			for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
				plan := explain(t, db, mode, query, args)
				if !strings.Contains(plan, tc.index) {
					t.Errorf("%s: the plan does not read %s:\n%s", mode, tc.index, plan)
				}
				if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Bitmap") {
					t.Errorf("%s: the plan scans a table:\n%s", mode, plan)
				}
				if strings.Contains(plan, "Sort") && !tc.sort {
					t.Errorf("%s: the plan sorts: the index does not serve the order:\n%s", mode, plan)
				}
			}
		})
	}
}

func pageOf(ctx context.Context, db *DB, articleID int64, o thread.Order, after *thread.Key) func() error {
	return func() error {
		_, err := db.TopLevelComments(ctx, articleID, thread.PageRequest{Order: o, First: 5, After: after})
		return err
	}
}

// explain returns the plan of query with args, planned in the plan_cache_mode mode.
func explain(t *testing.T, db *DB, mode, query string, args []any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestPageCostsConstantQueries: the statements a first view costs (site, article, a page of top-level
// comments, their replies, the replies' replies, the authors, the viewer's likes) are the same number for a
// page of 5 and one of 50, and stay the same as the thread grows tenfold.
func TestPageCostsConstantQueries(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	readers := []*thread.Reader{mustReader(t, db, a.SiteID, "a"), mustReader(t, db, a.SiteID, "b"), mustReader(t, db, a.SiteID, "c")}
	grow := func(n int) {
		for i := range n {
			c := &thread.Comment{ArticleID: a.ID, AuthorID: readers[i%3].ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
			if err := db.AddComment(ctx, c); err != nil {
				t.Fatal(err)
			}
			for j, r := range readers {
				reply := &thread.Comment{ArticleID: a.ID, ParentID: c.ID, AuthorID: r.ID, Body: "r", BodyHTML: "<p>r</p>", Status: thread.StatusPublished, CreatedAt: t0}
				if err := db.AddComment(ctx, reply); err != nil {
					t.Fatal(err)
				}
				if j == 0 {
					mustComment(t, db, a, reply.ID, t0)
				}
			}
			if _, err := db.Like(ctx, c.ID, readers[0].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	page := func(n int) int64 {
		before := db.QueryCount()
		site, err := db.SiteBySlug(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		art, err := db.ArticleByKey(ctx, site.ID, "k")
		if err != nil {
			t.Fatal(err)
		}
		top, err := db.TopLevelComments(ctx, art.ID, thread.PageRequest{Order: thread.OrderNewest, First: n})
		if err != nil || len(top) != n+1 {
			t.Fatalf("page of %d: %d comments, %v", n, len(top), err)
		}
		var ids, replyIDs, authors []int64
		for _, c := range top[:n] {
			ids, authors = append(ids, c.ID), append(authors, c.AuthorID)
		}
		replies, err := db.Replies(ctx, ids, thread.PageRequest{First: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if len(replies[id]) != 3 {
				t.Fatalf("comment %d has %d replies on the page, want 3", id, len(replies[id]))
			}
			for _, r := range replies[id] {
				replyIDs, authors = append(replyIDs, r.ID), append(authors, r.AuthorID)
			}
		}
		if _, err := db.Replies(ctx, replyIDs, thread.PageRequest{First: 3}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ReadersByID(ctx, authors); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Liked(ctx, readers[0].ID, append(ids, replyIDs...)); err != nil {
			t.Fatal(err)
		}
		return db.QueryCount() - before
	}
	grow(60)
	small, large := page(5), page(50)
	grow(540)
	grown := page(50)
	t.Logf("SQL statements: page of 5: %d, page of 50: %d, page of 50 of a thread ten times larger: %d", small, large, grown)
	if small != 7 || large != small || grown != small {
		t.Fatalf("a page cost %d, %d and %d statements; want 7 each time", small, large, grown)
	}
}
