package thread

import (
	"context"
	"time"
)

// The Service persists the domain through five stores, one per concern. A store is data access only: every rule
// is the Service's, and where a store must check one inside its transaction (a status change, a deletion, a hold
// after reports), the rule comes from this package (StatusChange.Check, CheckDelete, HoldAfterReports,
// ListedStatuses).
//
// Lookups of one object return an *Error with CodeNotFound when it does not exist; batch lookups return what
// exists, keyed by ID, and leave the missing out.

// SiteStore persists sites, their settings and their moderator keys.
type SiteStore interface {
	SiteBySlug(ctx context.Context, slug string) (*Site, error)
	SitesByID(ctx context.Context, ids []int64) (map[int64]*Site, error)
	// CreateSite inserts s, setting its ID; CONFLICT if the slug is taken.
	CreateSite(ctx context.Context, s *Site) error
	// UpdateSite writes a site's settings and signing secret.
	UpdateSite(ctx context.Context, s *Site) error
	ListSites(ctx context.Context) ([]*Site, error)
	// CreateModeratorKey stores the hash of a new moderator key of a site.
	CreateModeratorKey(ctx context.Context, siteID int64, name string, keyHash []byte, at time.Time) error
	// ModeratorKeyByHash returns the site and ID of the moderator key with the hash.
	ModeratorKeyByHash(ctx context.Context, hash []byte) (siteID, keyID int64, err error)
}

// ThreadStore persists articles, their comments and the likes of comments.
type ThreadStore interface {
	ArticleByKey(ctx context.Context, siteID int64, key string) (*Article, error)
	// ArticlesByKey returns the site's articles with the keys, keyed by key; the missing are left out.
	ArticlesByKey(ctx context.Context, siteID int64, keys []string) (map[string]*Article, error)
	ArticlesByID(ctx context.Context, ids []int64) (map[int64]*Article, error)
	// CreateEmbeddedArticle creates an article a page's first embed asks for, in one transaction, unless the
	// site has one with its key (created is false) or has had limit articles created by embeds since since
	// (full is true, and nothing is created).
	CreateEmbeddedArticle(ctx context.Context, a *Article, since time.Time, limit int) (created, full bool, err error)

	// CommentsByID returns the comments with the IDs, whatever their status.
	CommentsByID(ctx context.Context, ids []int64) (map[int64]*Comment, error)
	// TopLevelComments returns up to req.First+1 listed top-level comments of an article (ListedStatuses) in
	// req.Order after req.After, so that the caller can tell whether there is a next page.
	TopLevelComments(ctx context.Context, articleID int64, req PageRequest) ([]*Comment, error)
	// Replies returns, for each parent, up to req.First+1 of its listed direct replies, oldest first.
	Replies(ctx context.Context, parentIDs []int64, req PageRequest) (map[int64][]*Comment, error)
	// AddComment inserts c, setting its ID and depth, and updates the counts of its parent and article: a
	// parent's replies and an article's top-level comments count the listed, its comments the published.
	AddComment(ctx context.Context, c *Comment) error
	EditComment(ctx context.Context, id int64, body, bodyHTML string, at time.Time) (*Comment, error)
	// DeleteComment deletes a comment that passes CheckDelete (else its error). One with listed replies stays as
	// a placeholder, which is returned; one without is removed, and so is every placeholder above it left with
	// no listed reply.
	DeleteComment(ctx context.Context, id int64) (*Comment, error)

	// Liked reports which of the comments the reader likes.
	Liked(ctx context.Context, readerID int64, commentIDs []int64) (map[int64]bool, error)
	// Like and Unlike are idempotent and return the comment with its like count after the change.
	Like(ctx context.Context, commentID, readerID int64) (*Comment, error)
	Unlike(ctx context.Context, commentID, readerID int64) (*Comment, error)
}

// ReaderStore persists readers: anonymous ones, those a site's single sign-on names, and what each wrote.
type ReaderStore interface {
	ReaderByTokenHash(ctx context.Context, hash []byte) (*Reader, error)
	ReadersByID(ctx context.Context, ids []int64) (map[int64]*Reader, error)
	// CreateReader inserts r with the hash of its token, setting its ID.
	CreateReader(ctx context.Context, r *Reader, tokenHash []byte) error
	ReaderBySSOSubject(ctx context.Context, siteID int64, subject string) (*Reader, error)
	// UpsertSSOReader finds the reader a site's user maps to, renaming it to r.DisplayName, or creates it; it
	// sets r's ID, creation time and suspension.
	UpsertSSOReader(ctx context.Context, r *Reader, subject string) error
	// ReaderData returns what a reader wrote, without the Reader.
	ReaderData(ctx context.Context, readerID int64) (*ReaderData, error)
	// DeleteReader deletes a reader's account as DeleteMyAccount describes, and returns the articles it
	// changed and how many comments it emptied. It changes the reader's credentials (OnReaderChange): a store
	// that logs events records so (see CredentialsChangedBy).
	DeleteReader(ctx context.Context, readerID int64) (articles []int64, comments int, err error)
}

// ModerationStore persists moderators' decisions (an append-only log), readers' reports and authors' appeals.
type ModerationStore interface {
	// Moderate applies a moderation action and appends it to the log, in one transaction. With change, the
	// action's comment must pass change.Check (else its CONFLICT) and moves to change.To (if set); it is
	// returned as it then is. Lock, unlock and suspend act on the action's article or reader. A store that
	// logs events records the reader of CredentialsChangedBy(a), if any.
	Moderate(ctx context.Context, a *ModerationAction, change *StatusChange) (*Comment, error)
	// AddReport records a report (CONFLICT if the reader reported the comment before) and applies the hold
	// HoldAfterReports gives, logging it, in the same transaction. It returns the comment as it then is.
	AddReport(ctx context.Context, r *Report, threshold int) (*Comment, error)
	// AddAppeal records an appeal, setting its ID; CONFLICT if the comment was appealed before.
	AddAppeal(ctx context.Context, a *Appeal) error
	AppealsByComment(ctx context.Context, commentIDs []int64) (map[int64]*Appeal, error)
	ReportRules(ctx context.Context, commentIDs []int64) (map[int64][]RuleCount, error)
	// ModerationQueue returns up to req.First+1 pending, reported or appealed comments of a site (of one
	// article unless articleID is 0), oldest first, with their total.
	ModerationQueue(ctx context.Context, siteID, articleID int64, req PageRequest) ([]*Comment, int, error)
	// ModerationLog returns up to limit of an article's actions with IDs below before (any when 0), newest first.
	ModerationLog(ctx context.Context, articleID, before int64, limit int) ([]*ModerationAction, error)
	ModerationTotals(ctx context.Context, siteID int64) ([]ActionTotal, error)
	// CommentsByAuthor returns up to limit of a reader's comments on an article in the statuses, newest first.
	CommentsByAuthor(ctx context.Context, readerID, articleID int64, statuses []Status, limit int) ([]*Comment, error)
}

// TransferStore brings a site's content in from elsewhere and takes it out.
type TransferStore interface {
	// ImportBatch writes imported threads and posts in one transaction, skipping those imported before (by
	// source and SourceID). A thread whose key the site has already maps to that article (Threads does not
	// count it); a post's author is one reader per name and source; a reply whose parent the import lacks, or
	// that is on another article, is imported as a top-level comment (OrphanReplies counts it).
	ImportBatch(ctx context.Context, siteID int64, source string, threads []ImportThread, posts []ImportPost) (ImportStats, error)
	// ImportModeration writes imported moderation actions and appeals, skipping those imported before; it
	// returns how many it wrote.
	ImportModeration(ctx context.Context, siteID int64, source string, actions []ImportAction, appeals []ImportAppeal) (int, error)
	// ExportSite walks a site's content in ExportVisitor's order, from one consistent snapshot.
	ExportSite(ctx context.Context, siteID int64, articleKey string, v ExportVisitor) error
}

// Store is every store the Service needs, as one value: what NewService takes, and what a complete
// implementation (store/sqlite, and any other held to store/storetest) provides.
type Store interface {
	SiteStore
	ThreadStore
	ReaderStore
	ModerationStore
	TransferStore
}

// ImportedComment is a comment brought in from elsewhere: its author is a name, not a reader with a token.
type ImportedComment struct {
	Parent     int    // 1-based index of the parent among the imported comments; 0 for top level
	AuthorName string // "" for anonymous
	Body       string
	BodyHTML   string
	CreatedAt  time.Time
}
