package thread

import (
	"context"
	"time"
)

// ImportThread is an article as an import source describes it.
type ImportThread struct {
	SourceID  string // the source's identifier, unique in the file
	Key       string // the article's key on the site
	Title     string
	URL       string
	CreatedAt time.Time
	// Standfirst, Body and Locked come from Threadline's own export, and from ImportArticle.
	Standfirst, Body string
	Locked           bool
}

// ImportPost is a comment as an import source describes it.
type ImportPost struct {
	SourceID string
	ThreadID string // the SourceID of its thread
	ParentID string // the SourceID of the comment it answers; "" for a top-level one
	Author   string // "" for anonymous
	Body     string // Markdown
	BodyHTML string // set by Import
	Status   Status // published, or removed with Rule
	Rule     string
	Note     string
	Likes    int
	// CreatedAt, EditedAt and ModeratedAt are kept as the source says (EditedAt and ModeratedAt may be zero).
	CreatedAt, EditedAt, ModeratedAt time.Time
}

// ImportStats counts what an import batch did.
type ImportStats struct {
	Threads, Comments int // created
	Existing          int // comments imported before, left as they were
	OrphanReplies     int // replies whose parent the import does not have, imported as top-level comments
}

// Wrote reports whether the import created anything readers see.
func (st ImportStats) Wrote() bool { return st.Threads > 0 || st.Comments > 0 }

// Add adds o to st.
func (st *ImportStats) Add(o ImportStats) {
	st.Threads += o.Threads
	st.Comments += o.Comments
	st.Existing += o.Existing
	st.OrphanReplies += o.OrphanReplies
}

// Reply makes c, an imported post answering another, a reply to the parent the import found for it (found,
// with the parent's article), or leaves it top-level and counts it an orphan when there is none in c's article.
func (st *ImportStats) Reply(c *Comment, found bool, parentID, parentArticle int64) {
	if found && parentArticle == c.ArticleID {
		c.ParentID = parentID
	} else {
		st.OrphanReplies++
	}
}

// Comment returns the comment p becomes in the article, without its author or parent.
func (p *ImportPost) Comment(articleID int64) *Comment {
	return &Comment{ArticleID: articleID, Body: p.Body, BodyHTML: p.BodyHTML, Status: p.Status, CreatedAt: p.CreatedAt,
		LikeCount: p.Likes, Rule: p.Rule, Note: p.Note, EditedAt: p.EditedAt, ModeratedAt: p.ModeratedAt}
}

// CheckImportPost validates a post and renders its body, or says why it cannot be imported.
func CheckImportPost(p *ImportPost) error {
	if p.Body == "" && (p.Status == StatusDeleted || p.Status == StatusRemoved) {
		// A placeholder: deleted by its author, or removed and then emptied when its author left.
		p.BodyHTML = ""
	} else {
		body, bodyHTML, err := PrepareBody(p.Body)
		if err != nil {
			return err
		}
		p.Body, p.BodyHTML = body, bodyHTML
	}
	// An author's name is cleaned rather than the comment refused: one with nothing visible is anonymous.
	p.Author = ImportedName(p.Author)
	p.Note = importedText(p.Note, MaxNoteChars)
	switch {
	case p.SourceID == "" || len(p.SourceID) > 200:
		return Errorf(CodeInvalid, "a comment needs an identifier of 1 to 200 bytes")
	case p.ThreadID == "":
		return Errorf(CodeInvalid, "the comment names no thread")
	case p.CreatedAt.IsZero():
		return Errorf(CodeInvalid, "the comment has no time")
	case p.Status == "":
		p.Status = StatusPublished
	case p.Status != StatusPublished && p.Status != StatusRemoved && p.Status != StatusPending && p.Status != StatusDeleted:
		return Errorf(CodeInvalid, "a comment's status is published, pending, removed or deleted")
	}
	if p.Likes < 0 {
		p.Likes = 0
	}
	p.CreatedAt = p.CreatedAt.UTC().Truncate(time.Millisecond)
	return nil
}

// CheckImportThread validates a thread as a page's first embed is: a key of one line, the title defaulting to
// the key, and a URL only if it is http(s).
func CheckImportThread(t *ImportThread) error {
	var err error
	if t.Key, t.Title, t.URL, err = checkArticle(t.Key, t.Title, t.URL); err != nil {
		return err
	}
	if t.SourceID == "" {
		t.SourceID = t.Key
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Millisecond)
	return nil
}

// Import writes a batch of checked threads and posts from source (the format's name) into a site, in one
// transaction: threads and comments imported before are left as they are.
func (s *Service) Import(ctx context.Context, siteSlug, source string, threads []ImportThread, posts []ImportPost) (ImportStats, error) {
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return ImportStats{}, err
	}
	now := s.now()
	for i := range threads {
		if threads[i].CreatedAt.IsZero() {
			threads[i].CreatedAt = now
		}
	}
	st, err := s.transfers.ImportBatch(ctx, site.ID, source, threads, posts)
	if err == nil && st.Wrote() {
		s.changed(0)
	}
	return st, err
}

// ImportAction is a moderation action from Threadline's own export, naming its comment by the export's ID.
type ImportAction struct {
	SourceID   string
	ArticleKey string // "" for an action on no article (a suspension)
	CommentID  string // the export's ID of its comment, "" for none
	Kind       ActionKind
	BySystem   bool
	Rule, Note string
	Decision   Decision
	Until, At  time.Time
}

// Action returns the moderation action a becomes on the site, before the import finds its article, comment,
// reader and appeal.
func (a *ImportAction) Action(siteID int64) *ModerationAction {
	return &ModerationAction{SiteID: siteID, Kind: a.Kind, BySystem: a.BySystem, Moderator: "imported",
		Rule: a.Rule, Note: a.Note, Decision: a.Decision, Until: a.Until, At: a.At}
}

// ImportAppeal is an appeal from Threadline's own export.
type ImportAppeal struct {
	SourceID  string
	CommentID string
	Text      string
	At        time.Time
}

// ImportModeration writes moderation actions and appeals of comments imported before, skipping those
// imported before.
func (s *Service) ImportModeration(ctx context.Context, siteSlug, source string, actions []ImportAction, appeals []ImportAppeal) (int, error) {
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return 0, err
	}
	// A file may have been edited by hand: its texts are cleaned as a moderator's and an author's are, and an
	// appeal with nothing visible left is dropped rather than the import failed.
	for i := range actions {
		actions[i].Note = importedText(actions[i].Note, MaxNoteChars)
	}
	kept := appeals[:0:0]
	for _, a := range appeals {
		if a.Text = importedText(a.Text, MaxAppealChars); a.Text != "" {
			kept = append(kept, a)
		}
	}
	return s.transfers.ImportModeration(ctx, site.ID, source, actions, kept)
}

// ExportVisitor receives a site's content in a stable order: articles by creation (each followed by its
// comments, parents before replies (by depth), then oldest first, with their authors' names), then appeals,
// oldest first, then the moderation log, oldest first. store/storetest holds every store to this order.
type ExportVisitor struct {
	Article func(a *Article) error
	Comment func(c *Comment, author string) error
	Action  func(a *ModerationAction, articleKey string) error
	Appeal  func(a *Appeal) error
}

// Export walks a site's content (one article's, when articleKey is set) for v.
func (s *Service) Export(ctx context.Context, siteSlug, articleKey string, v ExportVisitor) (*Site, error) {
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return nil, err
	}
	return site, s.transfers.ExportSite(ctx, site.ID, articleKey, v)
}

// MayExport answers nil when the request may export a site's discussions: its moderators may.
func (s *Service) MayExport(ctx context.Context, siteSlug string) error {
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return err
	}
	_, err = s.authorize(ctx, ActModerate, site.ID, nil)
	return err
}
