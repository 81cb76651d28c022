// Package columns writes the values both stores keep in the same columns (a site's settings, lists as JSON
// text) and reads them back, so that the SQLite and PostgreSQL stores cannot drift apart on them.
package columns

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/threadline/threadline/thread"
)

// JSONList encodes a list of strings as a JSON array; nil as [] (the columns are NOT NULL).
func JSONList(v []string) (string, error) {
	if v == nil {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// SiteSettings returns, as arguments, the columns a site's settings are written to: name, frame_ancestors,
// premoderation, edit_window_ms, rules, signing_secret, report_threshold, no_embed_articles,
// embed_articles_per_hour.
func SiteSettings(s *thread.Site) ([]any, error) {
	ancestors, err := JSONList(s.FrameAncestors)
	if err != nil {
		return nil, err
	}
	rules, err := JSONList(s.Rules)
	if err != nil {
		return nil, err
	}
	return []any{s.Name, ancestors, s.Premoderation, s.EditWindow.Milliseconds(), rules, s.SigningSecret, s.ReportsToHold(),
		s.NoEmbedArticles, s.EmbedArticlesLimit()}, nil
}

// ReadSite sets what a site's row keeps as text and milliseconds: its frame ancestors and rules (JSON arrays)
// and its edit window.
func ReadSite(s *thread.Site, ancestors, rules string, editWindowMs int64) error {
	if err := json.Unmarshal([]byte(ancestors), &s.FrameAncestors); err != nil {
		return fmt.Errorf("site %d: frame ancestors: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(rules), &s.Rules); err != nil {
		return fmt.Errorf("site %d: rules: %w", s.ID, err)
	}
	s.EditWindow = time.Duration(editWindowMs) * time.Millisecond
	return nil
}
