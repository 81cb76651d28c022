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
	t := thread.ImportThread{SourceID: "k", Key: "k", Title: "T", CreatedAt: t0}
	if _, err := db.ImportBatch(ctx, site.ID, "test", []thread.ImportThread{t}, nil); err != nil {
		tb.Fatal(err)
	}
	got, err := db.ArticleByKey(ctx, site.ID, "k")
	if err != nil {
		tb.Fatal(err)
	}
	return got
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
