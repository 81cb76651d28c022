package thread

import (
	"context"
	"crypto/sha256"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Service carries out what readers and clients ask of threads, enforcing the domain's rules. It is safe for
// concurrent use.
type Service struct {
	sites      SiteStore
	threads    ThreadStore
	readers    ReaderStore
	moderation ModerationStore
	transfers  TransferStore

	// Now is the clock; tests replace it.
	Now func() time.Time

	changeMu  sync.RWMutex
	onChanges []func(articleID int64)
	onEvents  []func(Event)
	order     writeOrder  // see inOrder
	storeLogs bool        // the store logs events: see EventLogger
	logged    atomic.Bool // a follower of the store's log publishes: see PublishFromLog

	onReaders []func(readerID int64) // see OnReaderChange

	// Rate limiters (nil: no limit): comments per reader, writes, new readers and new articles per client address.
	comments, writes, newReaders, articles *limiter
}

// NewService returns a Service over store, which provides every part of it.
func NewService(store Store) *Service {
	s := &Service{sites: store, threads: store, readers: store, moderation: store, transfers: store, Now: time.Now}
	if l, ok := store.(EventLogger); ok && l.LogsEvents() {
		s.storeLogs = true
	}
	return s
}

// PublishFromLog hands the publication of events to a follower of the store's durable log (see EventLogger),
// which publishes them, in the log's order, for every server on the database, and tells ChangedElsewhere
// what changed: from now on the Service publishes nothing in process (OnEvent) and no longer serializes writes
// to keep events in commit order, which the database's log does. Call it before serving, where the follower
// is started. It fails unless the store logs events. Without it, the Service publishes in process, as on
// SQLite, whatever its store: a command, or a test, with no follower still reaches its own subscribers.
func (s *Service) PublishFromLog() error {
	if !s.storeLogs {
		return Errorf(CodeInternal, "the store does not log events: events are published in process")
	}
	s.logged.Store(true)
	return nil
}

// OnChange registers fn to be called after each committed write that changes what readers see: with the
// article's ID, or with 0 when the change is not confined to one article (a new site or article). It runs
// synchronously after the commit, so it must be quick.
func (s *Service) OnChange(fn func(articleID int64)) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.onChanges = append(s.onChanges, fn)
}

// changed tells the OnChange functions about a committed write.
func (s *Service) changed(articleID int64) {
	s.changeMu.RLock()
	defer s.changeMu.RUnlock()
	for _, fn := range s.onChanges {
		fn(articleID)
	}
}

// ExternalChange tells the OnChange functions that another process committed to the database (a `threadline
// import` or `site` run beside the server, or any SQLite client): which articles it touched is unknown, so it
// is reported as a change to everything.
func (s *Service) ExternalChange() { s.changed(0) }

// ChangedElsewhere tells the OnChange functions that a write committed by another server (or command) on a
// shared database changed an article (0: something not confined to one article), as its log says.
func (s *Service) ChangedElsewhere(articleID int64) { s.changed(articleID) }

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// Site returns the site with the given slug.
func (s *Service) Site(ctx context.Context, slug string) (*Site, error) {
	return s.sites.SiteBySlug(ctx, slug)
}

// Article returns the article of a site by its key.
func (s *Service) Article(ctx context.Context, siteSlug, key string) (*Article, error) {
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return nil, err
	}
	return s.threads.ArticleByKey(ctx, site.ID, key)
}

// MaxArticleKeys bounds the keys one request may look up.
const MaxArticleKeys = 100

// ArticlesByKey returns a site's articles by their keys, in the same order, nil for each key it has none for.
func (s *Service) ArticlesByKey(ctx context.Context, siteSlug string, keys []string) ([]*Article, error) {
	if len(keys) > MaxArticleKeys {
		return nil, Errorf(CodeInvalid, "articles takes at most %d keys", MaxArticleKeys)
	}
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if ErrorCode(err) == CodeNotFound {
		return make([]*Article, len(keys)), nil
	}
	if err != nil {
		return nil, err
	}
	found, err := s.threads.ArticlesByKey(ctx, site.ID, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*Article, len(keys))
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

// ArticleOfSite returns the article of a site by its key.
func (s *Service) ArticleOfSite(ctx context.Context, siteID int64, key string) (*Article, error) {
	return s.threads.ArticleByKey(ctx, siteID, key)
}

// Sites, Articles, Comments and Readers look objects up by ID in one batch; the missing are left out.
func (s *Service) Sites(ctx context.Context, ids []int64) (map[int64]*Site, error) {
	return s.sites.SitesByID(ctx, ids)
}

// Articles looks articles up by ID.
func (s *Service) Articles(ctx context.Context, ids []int64) (map[int64]*Article, error) {
	return s.threads.ArticlesByID(ctx, ids)
}

// Comments looks comments up by ID, as the viewer may see them (see shown); the others are left out.
func (s *Service) Comments(ctx context.Context, ids []int64) (map[int64]*Comment, error) {
	all, err := s.threads.CommentsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	list := make([]*Comment, 0, len(all))
	for _, c := range all {
		list = append(list, c)
	}
	if list, err = s.shown(ctx, list); err != nil {
		return nil, err
	}
	out := make(map[int64]*Comment, len(list))
	for _, c := range list {
		out[c.ID] = c
	}
	return out, nil
}

// shown returns the comments the viewer may see, as they may see them, in order. Published comments and
// placeholders of deleted ones are for everyone. Pending comments are for their author and the site's
// moderators only. Removed comments are shown in full to those too, and to everyone else as placeholders
// that keep the rule but not the body or the author.
func (s *Service) shown(ctx context.Context, list []*Comment) ([]*Comment, error) {
	v := viewerOf(ctx)
	mayModerate := v.keyID != 0 || v.reader != nil && v.reader.Moderator
	var articles map[int64]*Article
	out := make([]*Comment, 0, len(list))
	for _, c := range list {
		if c.Status == StatusPublished || c.Status == StatusDeleted || v.reader != nil && c.AuthorID == v.reader.ID {
			out = append(out, c)
			continue
		}
		moderates := false
		if mayModerate {
			if articles == nil {
				ids := make([]int64, len(list))
				for i, c := range list {
					ids[i] = c.ArticleID
				}
				var err error
				if articles, err = s.threads.ArticlesByID(ctx, ids); err != nil {
					return nil, err
				}
			}
			moderates = articles[c.ArticleID] != nil && v.moderates(articles[c.ArticleID].SiteID)
		}
		switch {
		case moderates:
			out = append(out, c)
		case c.Status == StatusRemoved:
			out = append(out, c.placeholder())
		}
	}
	return out, nil
}

// placeholder returns what readers other than its author and moderators see of a removed comment.
func (c *Comment) placeholder() *Comment {
	p := *c
	p.Body, p.BodyHTML, p.AuthorID, p.Note, p.ReportCount = "", "", 0, "", 0
	return &p
}

// Readers looks readers up by ID.
func (s *Service) Readers(ctx context.Context, ids []int64) (map[int64]*Reader, error) {
	return s.readers.ReadersByID(ctx, ids)
}

// TopLevelComments returns a page of an article's top-level comments.
func (s *Service) TopLevelComments(ctx context.Context, articleID int64, req PageRequest) (*Page, error) {
	list, err := s.threads.TopLevelComments(ctx, articleID, req)
	if err != nil {
		return nil, err
	}
	p := newPage(list, req)
	p.Comments, err = s.shown(ctx, p.Comments)
	return p, err
}

// Replies returns a page of direct replies, oldest first, for each parent.
func (s *Service) Replies(ctx context.Context, parentIDs []int64, req PageRequest) (map[int64]*Page, error) {
	req.Order = OrderOldest
	lists, err := s.threads.Replies(ctx, parentIDs, req)
	if err != nil {
		return nil, err
	}
	pages := make(map[int64]*Page, len(parentIDs))
	for _, id := range parentIDs {
		p := newPage(lists[id], req)
		if p.Comments, err = s.shown(ctx, p.Comments); err != nil {
			return nil, err
		}
		pages[id] = p
	}
	return pages, nil
}

func newPage(list []*Comment, req PageRequest) *Page {
	p := &Page{Comments: list, Order: req.Order}
	if len(list) > req.First {
		p.Comments, p.HasNext = list[:req.First], true
	}
	return p
}

// LikedByViewer reports which of the comments the current viewer likes; none for an anonymous viewer.
func (s *Service) LikedByViewer(ctx context.Context, commentIDs []int64) (map[int64]bool, error) {
	v := Viewer(ctx)
	if v == nil {
		return map[int64]bool{}, nil
	}
	return s.threads.Liked(ctx, v.ID, commentIDs)
}

// CreateReader makes a new reader on a site and returns it with its bearer token. The token is shown this once:
// only its SHA-256 is stored.
func (s *Service) CreateReader(ctx context.Context, siteSlug, displayName string) (*Reader, string, error) {
	name, err := ValidateDisplayName(displayName)
	if err != nil {
		return nil, "", err
	}
	if err := s.limit("new readers from your address", byClient(ctx, s.newReaders), byClient(ctx, s.writes)); err != nil {
		return nil, "", err
	}
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return nil, "", err
	}
	token := newToken()
	r := &Reader{SiteID: site.ID, DisplayName: name, CreatedAt: s.now()}
	if err := s.readers.CreateReader(ctx, r, HashToken(token)); err != nil {
		return nil, "", err
	}
	return r, token, nil
}

// tokenPrefix marks Threadline reader tokens, so that a leaked one is recognisable (e.g. by secret scanners).
const tokenPrefix = "tl_"

func newToken() string { return tokenPrefix + randomString() }

// HashToken returns what is stored of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewComment is what a reader posts.
type NewComment struct {
	ArticleID int64
	ParentID  int64 // 0 for a top-level comment
	Body      string
}

// AddComment posts the viewer's comment or reply. On a site with pre-moderation it waits, pending, for a
// moderator, unless the viewer moderates the site.
func (s *Service) AddComment(ctx context.Context, in NewComment) (*Comment, error) {
	body, bodyHTML, err := PrepareBody(in.Body)
	if err != nil {
		return nil, err
	}
	a, site, err := s.articleInContext(ctx, in.ArticleID)
	if err != nil {
		return nil, err
	}
	v, err := s.authorize(ctx, ActComment, site.ID, nil)
	if err != nil {
		return nil, err
	}
	if a.Locked {
		return nil, Errorf(CodeForbidden, "the article is locked and takes no new comments")
	}
	if err := s.limit("comments", byReader(s.comments, v), byClient(ctx, s.writes)); err != nil {
		return nil, err
	}
	c := &Comment{
		ArticleID: a.ID,
		ParentID:  in.ParentID,
		AuthorID:  v.ID,
		Body:      body,
		BodyHTML:  bodyHTML,
		Status:    StatusPublished,
		CreatedAt: s.now(),
	}
	if site.Premoderation && !v.Moderator {
		c.Status = StatusPending
	}
	if in.ParentID != 0 {
		p, err := s.visibleComment(ctx, in.ParentID, "parent comment")
		switch {
		case err != nil:
			return nil, err
		case p.ArticleID != a.ID:
			return nil, Errorf(CodeInvalid, "the parent comment belongs to another article")
		case p.Status == StatusDeleted:
			return nil, Errorf(CodeConflict, "the parent comment was deleted")
		case p.Status == StatusRemoved:
			return nil, Errorf(CodeConflict, "the parent comment was removed by a moderator")
		}
	}
	// The author is the viewer: no lookup while later writes wait.
	return inOrder(ctx, s, c.ArticleID, func() (*Comment, error) { return c, s.threads.AddComment(ctx, c) }, announce(WriteAdd, site.ID, "", v))
}

// EditComment replaces the body of the viewer's own comment, within the site's edit window.
func (s *Service) EditComment(ctx context.Context, id int64, body string) (*Comment, error) {
	body, bodyHTML, err := PrepareBody(body)
	if err != nil {
		return nil, err
	}
	c, site, err := s.ownComment(ctx, id, ActEdit)
	if err != nil {
		return nil, err
	}
	if site.EditWindow > 0 && s.now().Sub(c.CreatedAt) > site.EditWindow {
		return nil, Errorf(CodeForbidden, "comments on this site can be edited for %s after posting; that time is over",
			formatWindow(site.EditWindow))
	}
	if err := s.limit("edits", byClient(ctx, s.writes)); err != nil {
		return nil, err
	}
	return inOrder(ctx, s, c.ArticleID, func() (*Comment, error) {
		return s.threads.EditComment(ctx, id, body, bodyHTML, s.now())
	}, announce(WriteEdit, site.ID, c.Status, Viewer(ctx)))
}

// formatWindow says an edit window in words: "15 minutes", "2 hours".
func formatWindow(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return plural(int(d.Round(time.Second)/time.Second), "second")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// DeleteComment deletes the viewer's own comment. It returns the placeholder left in its place when the
// comment has replies, or nil when it is gone entirely.
func (s *Service) DeleteComment(ctx context.Context, id int64) (*Comment, error) {
	c, site, err := s.ownComment(ctx, id, ActDelete)
	if err != nil {
		return nil, err
	}
	if err := s.limit("deletions", byClient(ctx, s.writes)); err != nil {
		return nil, err
	}
	return inOrder(ctx, s, c.ArticleID, func() (*Comment, error) { return s.threads.DeleteComment(ctx, id) },
		func(placeholder *Comment) []Event {
			return Announced(WriteDelete, site.ID, c.Status, DeletedComment(c, placeholder))
		})
}

// visibleComment returns the comment with id, or NOT_FOUND if readers cannot see it; what names it in the
// error ("comment", "parent comment").
func (s *Service) visibleComment(ctx context.Context, id int64, what string) (*Comment, error) {
	all, err := s.threads.CommentsByID(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if c := all[id]; c != nil && c.Listed() {
		return c, nil
	}
	return nil, Errorf(CodeNotFound, "no %s has this ID", what)
}

// ownComment returns the viewer's published comment id, with its site, if the viewer may do act to it.
func (s *Service) ownComment(ctx context.Context, id int64, act Act) (*Comment, *Site, error) {
	c, _, site, err := s.commentInContext(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if c.Status == StatusDeleted {
		return nil, nil, Errorf(CodeConflict, "the comment was already deleted")
	}
	if _, err := s.authorize(ctx, act, site.ID, c); err != nil {
		return nil, nil, hideUnseen(ctx, c, err)
	}
	switch c.Status {
	case StatusPending, StatusRemoved:
		return nil, nil, Errorf(CodeConflict, "a comment a moderator holds or removed cannot be changed; appeal instead")
	}
	return c, site, nil
}

// LikeComment records the viewer's like; liking twice counts once.
func (s *Service) LikeComment(ctx context.Context, id int64) (*Comment, error) {
	return s.changeLike(ctx, id, s.threads.Like)
}

// UnlikeComment withdraws the viewer's like, if any.
func (s *Service) UnlikeComment(ctx context.Context, id int64) (*Comment, error) {
	return s.changeLike(ctx, id, s.threads.Unlike)
}

func (s *Service) changeLike(ctx context.Context, id int64, change func(ctx context.Context, commentID, readerID int64) (*Comment, error)) (*Comment, error) {
	c, site, v, err := s.likeable(ctx, id)
	if err != nil {
		return nil, err
	}
	return inOrder(ctx, s, c.ArticleID, func() (*Comment, error) { return change(ctx, id, v.ID) }, announce(WriteLike, site.ID, c.Status, nil))
}

func (s *Service) likeable(ctx context.Context, id int64) (*Comment, *Site, *Reader, error) {
	c, _, site, v, err := s.commentFor(ctx, ActLike, id)
	if err != nil {
		return nil, nil, nil, err
	}
	switch c.Status {
	case StatusDeleted:
		return nil, nil, nil, Errorf(CodeConflict, "the comment was deleted")
	case StatusPending:
		return nil, nil, nil, hideUnseen(ctx, c, Errorf(CodeConflict, "the comment is waiting for a moderator"))
	case StatusRemoved:
		return nil, nil, nil, Errorf(CodeConflict, "the comment was removed by a moderator")
	}
	if err := s.limit("likes", byClient(ctx, s.writes)); err != nil {
		return nil, nil, nil, err
	}
	return c, site, v, nil
}

// EnsureSite returns the site with the slug, creating it with the name if there is none.
func (s *Service) EnsureSite(ctx context.Context, slug, name string) (*Site, error) {
	site, err := s.sites.SiteBySlug(ctx, slug)
	if ErrorCode(err) != CodeNotFound {
		return site, err
	}
	site = &Site{Slug: slug, Name: name, FrameAncestors: []string{"*"}, Rules: DefaultRules, ReportThreshold: DefaultReportThreshold,
		EmbedArticlesPerHour: DefaultEmbedArticlesPerHour, CreatedAt: s.now()}
	err = s.sites.CreateSite(ctx, site)
	if ErrorCode(err) == CodeConflict {
		// Another server on the database, starting at the same time, created it.
		return s.sites.SiteBySlug(ctx, slug)
	}
	if err != nil {
		return nil, err
	}
	s.changed(0)
	return site, nil
}

// ImportArticle brings an article and its comments into a site, rendering their bodies like any other. It is
// idempotent: an article whose key the site already has is left as it is, and false is returned. It goes the
// importer's way (TransferStore.ImportBatch, under the source "article:" and the key), so that the seed, the
// first embeds and the importer write through one path.
func (s *Service) ImportArticle(ctx context.Context, a *Article, comments []ImportedComment) (bool, error) {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	t := ImportThread{SourceID: a.Key, Key: a.Key, Title: a.Title, URL: a.URL, CreatedAt: a.CreatedAt,
		Standfirst: a.Standfirst, Body: a.Body, Locked: a.Locked}
	posts := make([]ImportPost, len(comments))
	for i := range comments {
		c := &comments[i]
		body, bodyHTML, err := PrepareBody(c.Body)
		if err != nil {
			return false, Errorf(CodeInvalid, "comment %d: %s", i+1, ErrorMessage(err))
		}
		if c.Parent < 0 || c.Parent > i {
			return false, Errorf(CodeInvalid, "comment %d: parent %d is not an earlier comment", i+1, c.Parent)
		}
		c.Body, c.BodyHTML = body, bodyHTML
		c.AuthorName = ImportedName(c.AuthorName) // a name with nothing visible is anonymous, as in any import
		posts[i] = ImportPost{SourceID: strconv.Itoa(i + 1), ThreadID: t.SourceID, Author: c.AuthorName,
			Body: c.Body, BodyHTML: c.BodyHTML, Status: StatusPublished, CreatedAt: c.CreatedAt}
		if c.Parent > 0 {
			posts[i].ParentID = strconv.Itoa(c.Parent)
		}
	}
	// An article the site has already, from wherever it came, is left as it is: its comments are not added to.
	if _, err := s.threads.ArticleByKey(ctx, a.SiteID, a.Key); ErrorCode(err) != CodeNotFound {
		return false, err
	}
	st, err := s.transfers.ImportBatch(ctx, a.SiteID, "article:"+a.Key, []ImportThread{t}, posts)
	if err != nil || st.Threads == 0 {
		return false, err
	}
	s.changed(0)
	// Re-read so that the caller sees the ID and the counts the comments left.
	created, err := s.threads.ArticleByKey(ctx, a.SiteID, a.Key)
	if err != nil {
		return true, err
	}
	*a = *created
	return true, nil
}
