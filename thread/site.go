package thread

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// SiteSettings are what a site's owner chooses.
type SiteSettings struct {
	Name          string
	Origins       []string // the origins whose pages may embed the site's threads; "*" for any
	Premoderation bool
	EditWindow    time.Duration
	Rules         []string
	// ReportThreshold is how many readers' reports hold a comment for review; 0 means DefaultReportThreshold.
	ReportThreshold int
	// NoEmbedArticles keeps pages' first embeds from creating articles; then only the owner's tools do.
	NoEmbedArticles bool
	// EmbedArticlesPerHour bounds the articles first embeds create in any hour; 0 means
	// DefaultEmbedArticlesPerHour.
	EmbedArticlesPerHour int
}

// DefaultReportThreshold is how many reports hold a comment unless the site says otherwise.
const DefaultReportThreshold = 3

// DefaultEmbedArticlesPerHour is how many articles a site's first embeds may create in an hour unless the site
// says otherwise: more than any publisher writes, few enough that requests made by hand cannot fill a site.
const DefaultEmbedArticlesPerHour = 100

// MaxEmbedArticlesPerHour is the highest bound a site may set.
const MaxEmbedArticlesPerHour = 100_000

// Limits on site settings.
const (
	MaxSiteNameChars = 100
	MaxRuleChars     = 60
	MaxRules         = 30
	MaxOrigins       = 50
)

// validate checks the settings and returns them cleaned.
func (set SiteSettings) validate() (SiteSettings, error) {
	set.Origins, set.Rules = append([]string(nil), set.Origins...), append([]string(nil), set.Rules...)
	set.Name = strings.Join(strings.Fields(set.Name), " ")
	if set.Name == "" || utf8.RuneCountInString(set.Name) > MaxSiteNameChars {
		return set, Errorf(CodeInvalid, "a site's name is 1 to %d characters", MaxSiteNameChars)
	}
	if len(set.Origins) > MaxOrigins {
		return set, Errorf(CodeInvalid, "a site has at most %d origins", MaxOrigins)
	}
	for i, o := range set.Origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if !ValidFrameAncestor(o) {
			return set, Errorf(CodeInvalid, "%q is not an origin: write it as https://host or https://host:port, or * for any", o)
		}
		set.Origins[i] = strings.ToLower(o)
	}
	if set.ReportThreshold == 0 {
		set.ReportThreshold = DefaultReportThreshold
	}
	if set.ReportThreshold < 1 || set.ReportThreshold > 1000 {
		return set, Errorf(CodeInvalid, "the report threshold is 1 to 1000 reports")
	}
	if set.EmbedArticlesPerHour == 0 {
		set.EmbedArticlesPerHour = DefaultEmbedArticlesPerHour
	}
	if set.EmbedArticlesPerHour < 1 || set.EmbedArticlesPerHour > MaxEmbedArticlesPerHour {
		return set, Errorf(CodeInvalid, "the articles first embeds may create are 1 to %d an hour", MaxEmbedArticlesPerHour)
	}
	if set.EditWindow < 0 {
		return set, Errorf(CodeInvalid, "the edit window cannot be negative")
	}
	if len(set.Rules) == 0 || len(set.Rules) > MaxRules {
		return set, Errorf(CodeInvalid, "a site has 1 to %d rules", MaxRules)
	}
	seen := map[string]bool{}
	for i, r := range set.Rules {
		r = strings.Join(strings.Fields(r), " ")
		if r == "" || utf8.RuneCountInString(r) > MaxRuleChars {
			return set, Errorf(CodeInvalid, "a rule is named in 1 to %d characters", MaxRuleChars)
		}
		if seen[strings.ToLower(r)] {
			return set, Errorf(CodeInvalid, "the rule %q is listed twice", r)
		}
		seen[strings.ToLower(r)] = true
		set.Rules[i] = r
	}
	return set, nil
}

// ValidSlug reports whether slug can name a site: lowercase letters, digits and dashes, 1 to 63 of them.
func ValidSlug(slug string) bool {
	if slug == "" || len(slug) > 63 || slug[0] == '-' {
		return false
	}
	for _, r := range slug {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Settings returns the site's settings, for changing them.
func (site *Site) Settings() SiteSettings {
	return SiteSettings{
		Name:            site.Name,
		Origins:         append([]string(nil), site.FrameAncestors...),
		Premoderation:   site.Premoderation,
		EditWindow:      site.EditWindow,
		Rules:           append([]string(nil), site.Rules...),
		ReportThreshold: site.ReportThreshold,

		NoEmbedArticles:      site.NoEmbedArticles,
		EmbedArticlesPerHour: site.EmbedArticlesPerHour,
	}
}

// CreateSite makes a site with its settings, a signing secret and a first moderator key, and returns the three.
// The secret and the key are shown this once: the key is stored only as its SHA-256.
func (s *Service) CreateSite(ctx context.Context, slug string, set SiteSettings) (site *Site, secret, moderatorKey string, err error) {
	if !ValidSlug(slug) {
		return nil, "", "", Errorf(CodeInvalid, "a site's slug is 1 to 63 lowercase letters, digits and dashes")
	}
	if set.Rules == nil {
		set.Rules = append([]string(nil), DefaultRules...)
	}
	if set, err = set.validate(); err != nil {
		return nil, "", "", err
	}
	site = &Site{Slug: slug, CreatedAt: s.now(), SigningSecret: newSecret()}
	site.apply(set)
	if err := s.sites.CreateSite(ctx, site); err != nil {
		return nil, "", "", err
	}
	s.changed(0)
	key, err := s.AddModeratorKey(ctx, slug, "owner")
	if err != nil {
		return nil, "", "", err
	}
	return site, site.SigningSecret, key, nil
}

func (site *Site) apply(set SiteSettings) {
	site.Name, site.FrameAncestors, site.Premoderation, site.EditWindow, site.Rules, site.ReportThreshold =
		set.Name, set.Origins, set.Premoderation, set.EditWindow, set.Rules, set.ReportThreshold
	site.NoEmbedArticles, site.EmbedArticlesPerHour = set.NoEmbedArticles, set.EmbedArticlesPerHour
}

// UpdateSite changes a site's settings: change receives the current ones and edits them.
func (s *Service) UpdateSite(ctx context.Context, slug string, change func(*SiteSettings)) (*Site, error) {
	site, err := s.sites.SiteBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	set := site.Settings()
	change(&set)
	if set, err = set.validate(); err != nil {
		return nil, err
	}
	site.apply(set)
	if err := s.sites.UpdateSite(ctx, site); err != nil {
		return nil, err
	}
	s.changed(0)
	return site, nil
}

// RotateSecret gives a site a new signing secret and returns it; tokens signed with the old one stop working.
func (s *Service) RotateSecret(ctx context.Context, slug string) (string, error) {
	site, err := s.sites.SiteBySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	site.SigningSecret = newSecret()
	if err := s.sites.UpdateSite(ctx, site); err != nil {
		return "", err
	}
	s.changed(0) // live connections signed in with the old secret re-check their credentials
	return site.SigningSecret, nil
}

// AddModeratorKey makes a new moderator key for a site, named for whom it is given to, and returns it. It is
// shown this once: only its SHA-256 is stored.
func (s *Service) AddModeratorKey(ctx context.Context, slug, name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || utf8.RuneCountInString(name) > MaxDisplayNameChars {
		return "", Errorf(CodeInvalid, "a moderator key's name is 1 to %d characters", MaxDisplayNameChars)
	}
	site, err := s.sites.SiteBySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	key := moderatorKeyPrefix + randomString()
	if err := s.sites.CreateModeratorKey(ctx, site.ID, name, HashToken(key), s.now()); err != nil {
		return "", err
	}
	return key, nil
}

// ListSites returns every site.
func (s *Service) ListSites(ctx context.Context) ([]*Site, error) { return s.sites.ListSites(ctx) }

// moderatorKeyPrefix marks moderator keys, as tokenPrefix marks reader tokens.
const moderatorKeyPrefix = "tlm_"

func newSecret() string { return randomString() }

// randomString returns 32 random bytes in URL-safe base64.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
