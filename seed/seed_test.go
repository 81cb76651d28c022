package seed_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/thread"
	"github.com/threadline/threadline/threadtext"
)

// loadTime is the clock of the service the sample is loaded through.
var loadTime = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// newService returns a service over a new database (see internal/teststore), with a fixed clock and a count of the changes it
// reports.
func newService(t *testing.T) (*thread.Service, *int) {
	t.Helper()
	_, svc := teststore.Open(t)
	svc.Now = func() time.Time { return loadTime }
	changes := new(int)
	svc.OnChange(func(int64) { *changes++ })
	return svc, changes
}

// written is the sample as written, the oracle.
func written(t *testing.T) *threadtext.Thread {
	t.Helper()
	th, err := threadtext.Parse(bytes.NewReader(seed.SocialCredit))
	if err != nil {
		t.Fatalf("the sample does not parse: %v", err)
	}
	if len(th.Comments) != 45 {
		t.Fatalf("the sample has %d comments, want 45", len(th.Comments))
	}
	return th
}

// loaded is everything the service shows of the sample.
type loaded struct {
	site     *thread.Site
	article  *thread.Article
	comments []*thread.Comment
}

func snapshot(t *testing.T, svc *thread.Service) loaded {
	t.Helper()
	ctx := context.Background()
	site, err := svc.Site(ctx, seed.SiteSlug)
	if err != nil {
		t.Fatalf("site %s: %v", seed.SiteSlug, err)
	}
	a, err := svc.Article(ctx, seed.SiteSlug, seed.ArticleKey)
	if err != nil {
		t.Fatalf("article %s: %v", seed.ArticleKey, err)
	}
	page, err := svc.TopLevelComments(ctx, a.ID, thread.PageRequest{Order: thread.OrderOldest, First: 100})
	if err != nil {
		t.Fatal(err)
	}
	if page.HasNext {
		t.Errorf("more than 100 top-level comments")
	}
	return loaded{site, a, page.Comments}
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	svc, changes := newService(t)
	th := written(t)

	created, err := seed.Load(ctx, svc)
	if err != nil || !created {
		t.Fatalf("first Load = %v, %v; want true, nil", created, err)
	}
	if *changes == 0 {
		t.Error("the first Load reported no change")
	}
	got := snapshot(t, svc)

	t.Run("site and article", func(t *testing.T) {
		if got.site.Slug != seed.SiteSlug || got.site.Name != seed.SiteName {
			t.Errorf("site = %+v", got.site)
		}
		a := got.article
		if a.SiteID != got.site.ID || a.Key != seed.ArticleKey || a.Title != th.Title || a.Standfirst != th.Standfirst || a.Locked {
			t.Errorf("article = %+v", a)
		}
		if len(th.Body) == 0 || a.Body == "" {
			t.Errorf("article body %q from %d paragraphs", a.Body, len(th.Body))
		}
		if a.CommentCount != 45 || a.TopLevelCount != 45 {
			t.Errorf("CommentCount %d, TopLevelCount %d; want 45, 45", a.CommentCount, a.TopLevelCount)
		}
	})

	t.Run("comments as written", func(t *testing.T) {
		if len(got.comments) != len(th.Comments) {
			t.Fatalf("%d comments, want %d", len(got.comments), len(th.Comments))
		}
		// The authors of named comments, each looked up once.
		var authorIDs []int64
		for _, c := range got.comments {
			if c.AuthorID != 0 {
				authorIDs = append(authorIDs, c.AuthorID)
			}
		}
		readers, err := svc.Readers(ctx, authorIDs)
		if err != nil {
			t.Fatal(err)
		}
		readerOf := map[string]int64{} // one reader per written name
		anonymous := 0
		for i, c := range got.comments {
			w := th.Comments[i]
			if c.Body != w.Body {
				t.Errorf("comment %d: body %.60q, want %.60q", i+1, c.Body, w.Body)
			}
			if c.BodyHTML == "" {
				t.Errorf("comment %d: no bodyHTML", i+1)
			}
			if c.ArticleID != got.article.ID || c.ParentID != 0 || c.Depth != 0 || c.ReplyCount != 0 {
				t.Errorf("comment %d: article %d parent %d depth %d replies %d; want a top-level comment of article %d without replies",
					i+1, c.ArticleID, c.ParentID, c.Depth, c.ReplyCount, got.article.ID)
			}
			if c.LikeCount != 0 {
				t.Errorf("comment %d: %d likes, want none", i+1, c.LikeCount)
			}
			if c.Status != thread.StatusPublished || !c.EditedAt.IsZero() {
				t.Errorf("comment %d: status %s, edited %v", i+1, c.Status, c.EditedAt)
			}
			// Written order, one second apart, ending before the time of loading.
			if want := loadTime.Add(time.Duration(i-len(th.Comments)) * time.Second); !c.CreatedAt.Equal(want) {
				t.Errorf("comment %d: created %v, want %v", i+1, c.CreatedAt, want)
			}
			if w.Author == "" {
				anonymous++
				if c.AuthorID != 0 {
					t.Errorf("comment %d is anonymous as written, but has author %d", i+1, c.AuthorID)
				}
				continue
			}
			r := readers[c.AuthorID]
			if r == nil {
				t.Errorf("comment %d: author %d (%q) is no reader", i+1, c.AuthorID, w.Author)
				continue
			}
			if r.DisplayName != w.Author || r.SiteID != got.site.ID {
				t.Errorf("comment %d: author %q on site %d, want %q on %d", i+1, r.DisplayName, r.SiteID, w.Author, got.site.ID)
			}
			if id, ok := readerOf[w.Author]; ok && id != r.ID {
				t.Errorf("comment %d: %q is reader %d, but reader %d earlier", i+1, w.Author, r.ID, id)
			}
			readerOf[w.Author] = r.ID
		}
		if anonymous == 0 || anonymous == len(th.Comments) {
			t.Errorf("%d of %d comments are anonymous; the sample has both kinds", anonymous, len(th.Comments))
		}
		if len(readerOf) >= len(th.Comments)-anonymous {
			t.Errorf("%d readers for %d named comments; the sample has an author with several comments", len(readerOf), len(th.Comments)-anonymous)
		}
	})

	t.Run("every order shows the written order", func(t *testing.T) {
		for _, o := range []thread.Order{thread.OrderNewest, thread.OrderTop} {
			page, err := svc.TopLevelComments(ctx, got.article.ID, thread.PageRequest{Order: o, First: 100})
			if err != nil {
				t.Fatal(err)
			}
			want := got.comments
			if o == thread.OrderNewest {
				want = make([]*thread.Comment, len(got.comments))
				for i, c := range got.comments {
					want[len(want)-1-i] = c
				}
			}
			if len(page.Comments) != len(want) {
				t.Fatalf("%s: %d comments", o, len(page.Comments))
			}
			for i := range want {
				if page.Comments[i].ID != want[i].ID {
					t.Errorf("%s: comment %d is %d, want %d", o, i+1, page.Comments[i].ID, want[i].ID)
					break
				}
			}
		}
	})

	t.Run("second Load changes nothing", func(t *testing.T) {
		before := *changes
		svc.Now = func() time.Time { return loadTime.Add(time.Hour) } // a later load would stamp later times
		created, err := seed.Load(ctx, svc)
		if err != nil || created {
			t.Fatalf("second Load = %v, %v; want false, nil", created, err)
		}
		if *changes != before {
			t.Errorf("the second Load reported %d changes", *changes-before)
		}
		again := snapshot(t, svc)
		if !reflect.DeepEqual(again, got) {
			t.Errorf("after the second Load:\n%+v\n%+v\nwant\n%+v\n%+v", again.site, again.article, got.site, got.article)
		}
		// No reader was added: the IDs after the sample's readers name nobody.
		var maxReader int64
		for _, c := range got.comments {
			maxReader = max(maxReader, c.AuthorID)
		}
		next := make([]int64, 50)
		for i := range next {
			next[i] = maxReader + 1 + int64(i)
		}
		if extra, err := svc.Readers(ctx, next); err != nil || len(extra) != 0 {
			t.Errorf("readers after the sample's: %v, %v; want none", extra, err)
		}
	})
}

// The sample lands in a demo site that exists already, without replacing it.
func TestLoadIntoExistingSite(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	site, err := svc.EnsureSite(ctx, seed.SiteSlug, "Our own demo")
	if err != nil {
		t.Fatal(err)
	}
	created, err := seed.Load(ctx, svc)
	if err != nil || !created {
		t.Fatalf("Load = %v, %v; want true, nil", created, err)
	}
	got := snapshot(t, svc)
	if got.site.ID != site.ID || got.site.Name != "Our own demo" {
		t.Errorf("site = %+v, want the existing %+v", got.site, site)
	}
	if got.article.SiteID != site.ID || got.article.CommentCount != 45 {
		t.Errorf("article = %+v", got.article)
	}
}
