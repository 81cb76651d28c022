package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

func testSites(t *testing.T, s Store) {
	a, b := mustSite(t, s, "a"), mustSite(t, s, "b")
	wantCode(t, "a second site with a taken slug", s.CreateSite(ctx, &thread.Site{Slug: "a", Name: "Again", CreatedAt: t0}), thread.CodeConflict)
	_, err := s.SiteBySlug(ctx, "missing")
	wantCode(t, "SiteBySlug of a missing slug", err, thread.CodeNotFound)

	got, err := s.SiteBySlug(ctx, "a")
	must(t, err)
	if got.ID != a.ID || got.Name != a.Name || !got.CreatedAt.Equal(t0) {
		t.Errorf("SiteBySlug read back %+v, want %+v", got, a)
	}
	byID, err := s.SitesByID(ctx, []int64{a.ID, b.ID, b.ID + 1000})
	must(t, err)
	if len(byID) != 2 || byID[a.ID].Slug != "a" || byID[b.ID].Slug != "b" {
		t.Errorf("SitesByID: %v; want a and b, the missing left out", byID)
	}
	list, err := s.ListSites(ctx)
	must(t, err)
	var slugs []string
	for _, site := range list {
		slugs = append(slugs, site.Slug)
	}
	if !slices.Contains(slugs, "a") || !slices.Contains(slugs, "b") {
		t.Errorf("ListSites: %v; want a and b among them", slugs)
	}
}

func testSiteSettings(t *testing.T, s Store) {
	bare := &thread.Site{Slug: "bare", Name: "Bare", CreatedAt: t0}
	must(t, s.CreateSite(ctx, bare))
	if got, err := s.SiteBySlug(ctx, "bare"); err != nil || got.NoEmbedArticles || got.EmbedArticlesPerHour != thread.DefaultEmbedArticlesPerHour {
		t.Errorf("a site made without the settings reads back as %+v (%v); want embeds allowed, %d an hour", got, err, thread.DefaultEmbedArticlesPerHour)
	}
	site := mustSite(t, s, "blog")
	site.FrameAncestors = []string{"https://blog.example", "https://www.blog.example"}
	site.Premoderation = true
	site.EditWindow = 15 * time.Minute
	site.Rules = []string{"Spam", "Rudeness"}
	site.SigningSecret = "a secret"
	site.ReportThreshold = 7
	site.NoEmbedArticles = true
	site.EmbedArticlesPerHour = 12
	must(t, s.UpdateSite(ctx, site))
	got, err := s.SiteBySlug(ctx, "blog")
	must(t, err)
	if !slices.Equal(got.FrameAncestors, site.FrameAncestors) || !got.Premoderation || got.EditWindow != site.EditWindow ||
		!slices.Equal(got.Rules, site.Rules) || got.SigningSecret != site.SigningSecret || got.ReportThreshold != 7 ||
		!got.NoEmbedArticles || got.EmbedArticlesPerHour != 12 {
		t.Errorf("UpdateSite: read back %+v, want %+v", got, site)
	}
}

func testModeratorKeys(t *testing.T, s Store) {
	site := mustSite(t, s, "site")
	must(t, s.CreateModeratorKey(ctx, site.ID, "ops", []byte("key hash"), t0))
	siteID, keyID, err := s.ModeratorKeyByHash(ctx, []byte("key hash"))
	if err != nil || siteID != site.ID || keyID == 0 {
		t.Errorf("ModeratorKeyByHash: site %d, key %d, %v; want site %d and a key ID", siteID, keyID, err, site.ID)
	}
	_, _, err = s.ModeratorKeyByHash(ctx, []byte("another hash"))
	wantCode(t, "ModeratorKeyByHash of an unknown hash", err, thread.CodeNotFound)
}
