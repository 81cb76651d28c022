// Package thread is Threadline's domain: sites, articles, comments, readers and likes, the rules that govern
// them and the service that the API and the server call. It knows nothing of GraphQL, HTTP or SQL: it
// persists through the stores of store.go (SiteStore, ThreadStore, ReaderStore, ModerationStore, TransferStore),
// which store/sqlite implements and store/storetest holds every implementation to.
package thread

import (
	"context"
	"time"
)

// Site is a publisher: the owner of articles and of the readers who comment on them.
type Site struct {
	ID   int64
	Slug string
	Name string
	// FrameAncestors are the origins whose pages may embed the site's threads ("https://blog.example"); "*"
	// allows any. None allows none.
	FrameAncestors []string
	// Premoderation holds new comments for a moderator before readers see them.
	Premoderation bool
	// EditWindow is how long after posting authors may edit their comments; zero for always.
	EditWindow time.Duration
	// Rules are the short named reasons moderators cite ("Harassment", "Spam").
	Rules []string
	// SigningSecret verifies the site's single-sign-on tokens; empty for none.
	SigningSecret string
	// ReportThreshold is how many readers' reports hold a published comment for review.
	ReportThreshold int
	// NoEmbedArticles stops pages' first embeds from creating articles: the owner's tools create them
	// (`threadline article create`, imports). EmbedArticlesPerHour bounds those a site's first embeds create in
	// any hour.
	NoEmbedArticles      bool
	EmbedArticlesPerHour int
	CreatedAt            time.Time
}

// ReportsToHold is how many reports hold one of the site's comments: its ReportThreshold, and at least one.
func (s *Site) ReportsToHold() int { return max(s.ReportThreshold, 1) }

// EmbedArticlesLimit is how many articles the site's first embeds may create in an hour: its
// EmbedArticlesPerHour, or DefaultEmbedArticlesPerHour where that is not set.
func (s *Site) EmbedArticlesLimit() int {
	if s.EmbedArticlesPerHour <= 0 {
		return DefaultEmbedArticlesPerHour
	}
	return s.EmbedArticlesPerHour
}

// DefaultRules are a new site's rules until its owner sets others.
var DefaultRules = []string{"Threat of violence", "Harassment", "Spam", "Off-topic"}

// Article is a page of a site that has a discussion.
type Article struct {
	ID         int64
	SiteID     int64
	Key        string // the site's own identifier for the page, unique per site
	URL        string // canonical URL, may be empty
	Title      string
	Standfirst string
	Body       string // plain text; paragraphs separated by a blank line
	Locked     bool   // a locked article takes no new comments
	// CommentCount is the number of published comments, replies included.
	CommentCount int
	// TopLevelCount is the number of top-level comments a reader can see (published ones and placeholders of
	// deleted ones that still have replies): the total of the article's comment list.
	TopLevelCount int
	CreatedAt     time.Time
}

// Status is where a comment stands.
type Status string

// Comment statuses.
const (
	StatusPublished Status = "published"
	StatusPending   Status = "pending"
	StatusRemoved   Status = "removed"
	// StatusDeleted marks a comment its author deleted while it had replies: its body and author are gone,
	// the row stays as a placeholder so that the replies keep their place.
	StatusDeleted Status = "deleted"
)

// Comment is a reader's comment on an article, or a reply to another comment.
type Comment struct {
	ID        int64
	ArticleID int64
	ParentID  int64 // 0 for a top-level comment
	AuthorID  int64 // 0 for an anonymous comment (imported) or a deleted one
	Body      string
	BodyHTML  string
	Status    Status
	Depth     int // 0 for a top-level comment, parent's depth + 1 for a reply
	LikeCount int
	// ReplyCount is the number of direct replies a reader can see.
	ReplyCount int
	CreatedAt  time.Time
	EditedAt   time.Time // zero if never edited
	// Rule is, for a removed comment, the rule the moderator cited; for one held after reports, the rule the
	// report that held it cited. Note is the moderator's note to the author, ModeratedAt when it was written.
	Rule        string
	Note        string
	ModeratedAt time.Time
	// ReportCount is how many readers reported it since a moderator last reviewed it.
	ReportCount int
	// AppealOpen is set while its author's appeal waits for an answer.
	AppealOpen bool
}

// Reader is a site-scoped identity: a display name a person chose, and nothing else about them.
type Reader struct {
	ID          int64
	SiteID      int64
	DisplayName string
	CreatedAt   time.Time
	// SuspendedUntil is when a suspension a moderator gave ends (zero for none), for SuspensionReason.
	SuspendedUntil   time.Time
	SuspensionReason string
	// Moderator is set for a request whose sign-in token, from the reader's site, says it moderates the site.
	// It is a property of the token, never stored.
	Moderator bool
}

// Suspended reports whether the reader is suspended at t.
func (r *Reader) Suspended(t time.Time) bool { return t.Before(r.SuspendedUntil) }

// SuspensionShown reports whether the reader's suspension at t is shown to the viewer: only the reader and the
// site's moderators see it.
func SuspensionShown(ctx context.Context, r *Reader, t time.Time) bool {
	if !r.Suspended(t) {
		return false
	}
	v := Viewer(ctx)
	return v != nil && v.ID == r.ID || Moderates(ctx, r.SiteID)
}
