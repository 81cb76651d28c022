package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

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
