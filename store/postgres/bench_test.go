package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

// BenchmarkAddComment measures durable posts (synchronous_commit on) from many writers at once, on one
// article (where they queue on its counts) and spread over 100.
func BenchmarkAddComment(b *testing.B) {
	for _, tc := range []struct {
		name     string
		articles int
	}{{"one article", 1}, {"100 articles", 100}} {
		b.Run(tc.name, func(b *testing.B) {
			db := mustOpen(b)
			ctx := context.Background()
			site := &thread.Site{Slug: "s", Name: "S", CreatedAt: t0}
			if err := db.CreateSite(ctx, site); err != nil {
				b.Fatal(err)
			}
			var articles []*thread.Article
			for i := range tc.articles {
				articles = append(articles, importArticle(b, db, &thread.Article{SiteID: site.ID, Key: string(rune('a'+i%26)) + string(rune('a'+i/26)), CreatedAt: t0}))
			}
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					c := &thread.Comment{ArticleID: articles[int(i)%len(articles)].ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
					if err := db.AddComment(ctx, c); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "posts/s")
		})
	}
}

// BenchmarkImportBatch measures an import of batches of 1,000 comments (a third of them replies) by 100 authors.
func BenchmarkImportBatch(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	site := &thread.Site{Slug: "s", Name: "S", CreatedAt: t0}
	if err := db.CreateSite(ctx, site); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		tid := fmt.Sprint("t", n)
		posts := make([]thread.ImportPost, 1000)
		for i := range posts {
			posts[i] = thread.ImportPost{SourceID: fmt.Sprint(n, "-", i), ThreadID: tid, Author: fmt.Sprint("author ", i%100),
				Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
			if i%3 == 2 {
				posts[i].ParentID = fmt.Sprint(n, "-", i-1)
			}
		}
		if _, err := db.ImportBatch(ctx, site.ID, "bench", []thread.ImportThread{{SourceID: tid, Key: tid, CreatedAt: t0}}, posts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/time.Since(start).Seconds(), "comments/s")
}
