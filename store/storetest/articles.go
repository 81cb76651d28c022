package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

func testArticles(t *testing.T, s Store) {
	f := newFixture(t, s)
	other := f.mustArticle(t, "other")
	if f.article.Title != "Title article" || f.article.URL != "https://example.com/article" || !f.article.CreatedAt.Equal(t0) {
		t.Errorf("ArticleByKey read back %+v", f.article)
	}
	_, err := s.ArticleByKey(ctx, f.site.ID, "missing")
	wantCode(t, "ArticleByKey of a missing key", err, thread.CodeNotFound)
	_, err = s.ArticleByKey(ctx, f.site.ID+1000, "article")
	wantCode(t, "ArticleByKey on another site", err, thread.CodeNotFound)

	byKey, err := s.ArticlesByKey(ctx, f.site.ID, []string{"article", "other", "missing"})
	must(t, err)
	if len(byKey) != 2 || byKey["article"].ID != f.article.ID || byKey["other"].ID != other.ID {
		t.Errorf("ArticlesByKey: %v; want article and other, the missing left out", byKey)
	}
	byID, err := s.ArticlesByID(ctx, []int64{f.article.ID, other.ID, other.ID + 1000})
	must(t, err)
	if len(byID) != 2 || byID[f.article.ID].Key != "article" || byID[other.ID].Key != "other" {
		t.Errorf("ArticlesByID: %v; want article and other, the missing left out", byID)
	}
}

// testEmbeddedArticles: the bound counts the articles the site's embeds created since the given time, not
// those its owner imported, not another site's, not older ones; a key the site has creates nothing.
func testEmbeddedArticles(t *testing.T, s Store) {
	f := newFixture(t, s)
	other := mustSite(t, s, "other")
	embedded := func(siteID int64, key string, when time.Time) (bool, bool) {
		t.Helper()
		a := &thread.Article{SiteID: siteID, Key: key, Title: key, CreatedAt: when}
		created, full, err := s.CreateEmbeddedArticle(ctx, a, t0.Add(-time.Hour), 3)
		must(t, err)
		if created && a.ID == 0 {
			t.Errorf("embed %s: created with no ID", key)
		}
		return created, full
	}
	embedded(f.site.ID, "old", t0.Add(-2*time.Hour)) // before the window
	for i := range 5 {                               // the owner's, and another site's: not counted
		f.mustArticle(t, fmt.Sprint("imported-", i))
		embedded(other.ID, fmt.Sprint("elsewhere-", i), t0)
	}
	for i, want := range []struct{ created, full bool }{{true, false}, {true, false}, {true, false}, {false, true}} {
		if created, full := embedded(f.site.ID, fmt.Sprint("new-", i), t0); created != want.created || full != want.full {
			t.Errorf("embed %d: created %v, full %v; want %v, %v", i, created, full, want.created, want.full)
		}
	}
	for _, key := range []string{"new-0", "imported-0"} {
		if created, full := embedded(f.site.ID, key, t0); created || full {
			t.Errorf("the existing key %s under a full bound: created %v, full %v; want neither", key, created, full)
		}
	}
	if _, err := s.ArticleByKey(ctx, f.site.ID, "new-3"); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Errorf("an embed over the bound created its article (%v)", err)
	}
}
