// Package threadgen generates synthetic discussions for benchmarks and load tests: one article on a site of its
// own, with top-level comments that each have the same number of replies, by a pool of authors.
package threadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/threadline/threadline/thread"
)

// Site and Article name what Generate creates.
const (
	Site    = "bench"
	Article = "generated"
)

// Body is every generated comment's text: a typical length, with emphasis and a link to render.
const Body = "A generated comment of a typical length, with **some emphasis** and a [link](https://example.com/a/page). " +
	"It goes on for a second sentence so that the body is about as long as the sample's median comment."

// Generate creates the site and an article with topLevel comments, each with replies replies, through the
// thread service's import (one transaction, bodies rendered like any other). It returns the article.
func Generate(ctx context.Context, svc *thread.Service, topLevel, replies int) (*thread.Article, error) {
	site, err := svc.EnsureSite(ctx, Site, "Benchmarks")
	if err != nil {
		return nil, err
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	comments := make([]thread.ImportedComment, 0, topLevel*(1+replies))
	for i := range topLevel {
		comments = append(comments, thread.ImportedComment{
			AuthorName: fmt.Sprintf("Author %d", i%50),
			Body:       Body,
			CreatedAt:  start.Add(time.Duration(len(comments)) * time.Second),
		})
		parent := len(comments)
		for j := range replies {
			comments = append(comments, thread.ImportedComment{
				Parent:     parent,
				AuthorName: fmt.Sprintf("Author %d", (i+j+1)%50),
				Body:       Body,
				CreatedAt:  start.Add(time.Duration(len(comments)) * time.Second),
			})
		}
	}
	a := &thread.Article{SiteID: site.ID, Key: Article, Title: "Generated"}
	if _, err := svc.ImportArticle(ctx, a, comments); err != nil {
		return nil, err
	}
	return a, nil
}
