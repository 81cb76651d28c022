package thread

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/threadline/threadline/linkurl"
)

// Limits on what an embedding page, or an import, says of an article.
const (
	MaxArticleKeyChars   = 200
	MaxArticleTitleChars = 300
	MaxArticleURLBytes   = 2000
)

// EmbedArticle returns the article a page embeds, creating it on the page's first embed; it is called when the
// page did not find the article. Anyone can make the request that asks for it, with any Referer and any url,
// so creation is bounded by what a hand-made request cannot change:
//   - the site may turn it off (NoEmbedArticles): then only the owner's tools create articles;
//   - on a site that lists its origins, the article's URL must be an http(s) URL on one of them, and the page
//     that asks (referrer: the origin its browser sent in Referer or Origin; "" when none was sent) must be on
//     one of them too; a site open to any origin keeps a URL only if it is one Threadline would link to;
//   - a site's first embeds create at most its EmbedArticlesPerHour articles in any hour, counted in the
//     database (RATE_LIMITED beyond), and one client address only so many (the in-memory limits).
//
// Title and URL are the page's own, cleaned as checkArticle says; the title defaults to the key.
func (s *Service) EmbedArticle(ctx context.Context, siteSlug, key, title, pageURL, referrer string) (*Article, error) {
	if len(key) > utf8.UTFMax*MaxArticleKeyChars {
		return nil, errArticleKey // before any lookup
	}
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return nil, err
	}
	a, err := s.threads.ArticleByKey(ctx, site.ID, key)
	if ErrorCode(err) != CodeNotFound {
		return a, err
	}
	if site.NoEmbedArticles {
		return nil, Errorf(CodeForbidden, "this site's threads are started by its owner, not by the pages that embed them")
	}
	if err := s.limit("new threads from your address", byClient(ctx, s.articles)); err != nil {
		return nil, err
	}
	if key, title, pageURL, err = checkArticle(key, title, pageURL); err != nil {
		return nil, err
	}
	if !site.openToAnyOrigin() {
		switch origin := originOf(pageURL); {
		case origin == "" || !site.AllowsEmbedding(origin):
			return nil, Errorf(CodeForbidden, "a new thread needs the page's URL, on one of the site's origins")
		case referrer != "" && !site.AllowsEmbedding(referrer):
			return nil, Errorf(CodeForbidden, "pages on %q may not start threads on this site", referrer)
		}
	}
	now := s.now()
	a = &Article{SiteID: site.ID, Key: key, Title: title, URL: pageURL, CreatedAt: now}
	created, full, err := s.threads.CreateEmbeddedArticle(ctx, a, now.Add(-time.Hour), site.EmbedArticlesLimit())
	switch {
	case err != nil:
		return nil, err
	case full:
		return nil, &Error{Code: CodeRateLimited, RetryAfter: time.Minute,
			Message: "this site has started as many threads as it takes in an hour from the pages that embed them; try again later"}
	case created:
		s.changed(0)
	}
	return s.threads.ArticleByKey(ctx, site.ID, key)
}

// CreateArticle creates an article of a site as its owner's tools do (`threadline article create`): with no
// page asking, so without the bounds of EmbedArticle. It answers CONFLICT if the site has an article with the
// key.
func (s *Service) CreateArticle(ctx context.Context, siteSlug, key, title, pageURL string) (*Article, error) {
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return nil, err
	}
	var cleanURL string
	if key, title, cleanURL, err = checkArticle(key, title, pageURL); err != nil {
		return nil, err
	}
	if cleanURL != pageURL {
		return nil, Errorf(CodeInvalid, "an article's URL is an http or https URL of at most %d bytes", MaxArticleURLBytes)
	}
	a := &Article{SiteID: site.ID, Key: key, Title: title, URL: cleanURL}
	created, err := s.ImportArticle(ctx, a, nil)
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, Errorf(CodeConflict, "the site has an article with the key %q", key)
	}
	return a, nil
}

var errArticleKey = Errorf(CodeInvalid, "an article key is 1 to %d characters of one line", MaxArticleKeyChars)

// maxTitleBytes is more than the longest title takes, with room for what cleaning drops.
const maxTitleBytes = 16 * MaxArticleTitleChars

// checkArticle checks what a page, or an import, says of an article and returns it cleaned: a key of one line,
// a title on one line and cleaned as names are (the key when none is left), and a URL only if it is one
// Threadline would link to (see originOf), of at most MaxArticleURLBytes.
func checkArticle(key, title, pageURL string) (string, string, string, error) {
	if key = strings.TrimSpace(key); key == "" || !utf8.ValidString(key) || utf8.RuneCountInString(key) > MaxArticleKeyChars ||
		strings.IndexFunc(key, unicode.IsControl) >= 0 {
		return "", "", "", errArticleKey
	}
	if len(title) > maxTitleBytes {
		title = title[:maxTitleBytes] // bounds the cleaning's work; oneLine drops a rune the cut splits
	}
	title, _ = cleanName("title", oneLine(title))
	if !hasInk(title) {
		title = key
	}
	if utf8.RuneCountInString(title) > MaxArticleTitleChars {
		title = string([]rune(title)[:MaxArticleTitleChars-1]) + "…"
	}
	if originOf(pageURL) == "" || len(pageURL) > MaxArticleURLBytes {
		pageURL = "" // a URL we would not link to is better left out than refused: the thread still works
	}
	return key, title, pageURL, nil
}

// oneLine returns s with its control characters and line separators as spaces, and its bad bytes dropped.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// originOf returns the origin ("https://host:port", lower case) of a URL Threadline would link to (see
// linkurl.Allowed) that has no user name and no invisible character, or "" for anything else.
func originOf(raw string) string {
	if !linkurl.Allowed(raw) || strings.IndexFunc(raw, func(r rune) bool { return invisible(r) || unicode.IsControl(r) }) >= 0 {
		return "" // an invisible character makes a URL that reads as another
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return "" // "https://blog.example@evil.example/" is on evil.example
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// openToAnyOrigin reports whether the site lets pages on any origin embed its threads.
func (site *Site) openToAnyOrigin() bool {
	for _, allowed := range site.FrameAncestors {
		if allowed == "*" {
			return true
		}
	}
	return false
}

// AllowsEmbedding reports whether a page on origin may embed the site's threads.
func (site *Site) AllowsEmbedding(origin string) bool {
	for _, allowed := range site.FrameAncestors {
		if allowed == "*" || origin != "" && strings.EqualFold(allowed, origin) {
			return true
		}
	}
	return false
}
