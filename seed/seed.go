// Package seed holds the sample thread that Threadline loads into the demo
// site on first start.
package seed

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/threadline/threadline/thread"
	"github.com/threadline/threadline/threadtext"
)

// SocialCredit is an article and its reader comments in the plain-text
// thread format read by package threadtext.
//
//go:embed social-credit.txt
var SocialCredit []byte

// Site and article under which the sample is loaded.
const (
	SiteSlug   = "demo"
	SiteName   = "Threadline demo"
	ArticleKey = "social-credit"
)

// Load puts the sample article with its comments into the demo site, creating the site if needed. It is
// idempotent: when the article is there already it changes nothing and returns false.
//
// The sample carries no times, so the comments get the time of loading, one second apart in the order they
// were written: NEWEST and OLDEST then show them as written. Likes and replies are not invented.
func Load(ctx context.Context, svc *thread.Service) (bool, error) {
	t, err := threadtext.Parse(bytes.NewReader(SocialCredit))
	if err != nil {
		return false, fmt.Errorf("parse the sample: %w", err)
	}
	site, err := svc.EnsureSite(ctx, SiteSlug, SiteName)
	if err != nil {
		return false, err
	}
	a := &thread.Article{
		SiteID:     site.ID,
		Key:        ArticleKey,
		Title:      t.Title,
		Standfirst: t.Standfirst,
		Body:       strings.Join(t.Body, "\n\n"),
	}
	start := svc.Now().UTC().Truncate(time.Second).Add(-time.Duration(len(t.Comments)) * time.Second)
	comments := make([]thread.ImportedComment, len(t.Comments))
	for i, c := range t.Comments {
		comments[i] = thread.ImportedComment{
			AuthorName: c.Author,
			Body:       c.Body,
			CreatedAt:  start.Add(time.Duration(i) * time.Second),
		}
	}
	return svc.ImportArticle(ctx, a, comments)
}
