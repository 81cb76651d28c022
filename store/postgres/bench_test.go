package postgres

import (
	"context"
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
