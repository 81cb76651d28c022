package thread

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ActionKind is what a moderation action did.
type ActionKind string

// The moderation actions. Each is appended to the site's log, which nothing rewrites.
const (
	ActionApprove      ActionKind = "approve"       // a pending or reported comment is published
	ActionRemove       ActionKind = "remove"        // a comment is removed, citing a rule
	ActionRestore      ActionKind = "restore"       // a removed comment is published again
	ActionHold         ActionKind = "hold"          // reports held a published comment for review
	ActionLock         ActionKind = "lock"          // an article takes no new comments
	ActionUnlock       ActionKind = "unlock"        // it takes them again
	ActionSuspend      ActionKind = "suspend"       // a reader may not write for a time
	ActionAnswerAppeal ActionKind = "answer_appeal" // a moderator answered an author's appeal
)

// Decision is a moderator's answer to an appeal.
type Decision string

// Decisions on appeals.
const (
	DecisionUpheld   Decision = "upheld"   // the decision stands
	DecisionReversed Decision = "reversed" // the comment is published
)

// ModerationAction is one entry of the moderation log.
type ModerationAction struct {
	ID        int64
	SiteID    int64
	ArticleID int64 // 0 when the action is not about an article (a suspension)
	CommentID int64
	ReaderID  int64 // the reader acted upon: the comment's author, or the suspended reader
	AppealID  int64
	Kind      ActionKind
	// BySystem is set for actions the rules took by themselves (reports holding a comment).
	BySystem bool
	// Moderator says who acted, for the site's owner; the API never shows it.
	Moderator string
	Rule      string
	Note      string // the moderator's reason or note to the author
	Decision  Decision
	Until     time.Time // the end of a suspension
	At        time.Time
}

// StatusChange moves a comment from one of the statuses From, or of ReportedFrom when readers reported it, to
// To; anything else is a CONFLICT. A store checks it with Check on the comment as its transaction reads it, so
// that two moderators acting at once cannot both succeed.
type StatusChange struct {
	From         []Status
	ReportedFrom []Status // statuses the change may start from only when the comment has reports
	To           Status
}

// Check returns a CONFLICT unless c may make the change, by an action of kind.
func (ch *StatusChange) Check(c *Comment, kind ActionKind) error {
	if slices.Contains(ch.From, c.Status) || c.ReportCount > 0 && slices.Contains(ch.ReportedFrom, c.Status) {
		return nil
	}
	return Errorf(CodeConflict, "the comment is %s: a moderator cannot %s it", c.Status, strings.ReplaceAll(string(kind), "_", " "))
}

// Marks returns the rule and note a comment keeps once moved to ch.To by a: a removed one cites the action's
// rule and note, a held one only its rule (the note is the moderators'), and one published again no rule (the
// note says why).
func (ch *StatusChange) Marks(a *ModerationAction) (rule, note string) {
	switch ch.To {
	case StatusRemoved:
		return a.Rule, a.Note
	case StatusPending:
		return a.Rule, ""
	}
	return "", a.Note
}

// AccountDeletion is what deleting an account does to one of its comments.
type AccountDeletion int

const (
	// EmptyRemoved keeps a removed comment as the moderator's placeholder, without body or author.
	EmptyRemoved AccountDeletion = iota
	// LeaveDeleted turns a comment others replied to into a deleted placeholder, without likes.
	LeaveDeleted
	// DropComment takes the comment out of its thread.
	DropComment
)

// AccountDeletionOf returns what deleting its author's account does to c.
func AccountDeletionOf(c *Comment) AccountDeletion {
	switch {
	case c.Status == StatusRemoved:
		return EmptyRemoved
	case c.ReplyCount > 0:
		return LeaveDeleted
	}
	return DropComment
}

// HoldAfterReports returns the system's hold of c, reported under rule at at, once it has threshold reports and
// is published; nil otherwise. A store calls it in the transaction that counts the report, and sets the hold's
// SiteID.
func HoldAfterReports(c *Comment, rule string, at time.Time, threshold int) (*ModerationAction, *StatusChange) {
	if c.ReportCount < threshold || c.Status != StatusPublished {
		return nil, nil
	}
	return &ModerationAction{ArticleID: c.ArticleID, CommentID: c.ID, ReaderID: c.AuthorID,
			Kind: ActionHold, BySystem: true, Rule: rule, At: at, Note: fmt.Sprintf("held for review after %d reports", c.ReportCount)},
		&StatusChange{From: []Status{StatusPublished}, To: StatusPending}
}

// CanAppeal reports whether c's author may appeal it, given the appeal it has (nil for none): once, against a
// removal or a hold after reports.
func CanAppeal(c *Comment, appeal *Appeal) bool {
	return appeal == nil && (c.Status == StatusRemoved || c.Status == StatusPending && c.Rule != "")
}

// Report is a reader's report of a comment, citing one of the site's rules.
type Report struct {
	CommentID int64
	ReaderID  int64
	Rule      string
	At        time.Time
}

// RuleCount is how often a rule was cited.
type RuleCount struct {
	Rule  string
	Count int
}

// Appeal is an author's one appeal against a moderator's decision about their comment, with its answer.
type Appeal struct {
	ID        int64
	CommentID int64
	AuthorID  int64
	Text      string
	At        time.Time
	// Decision, Answer and AnsweredAt are the moderator's answer; Decision is "" until there is one.
	Decision   Decision
	Answer     string
	AnsweredAt time.Time
}

// ActionTotal counts a site's moderation actions of one kind, rule and decision.
type ActionTotal struct {
	Kind     ActionKind
	Rule     string
	Decision Decision
	Count    int
}

// Limits on what moderators and authors write about moderation.
const (
	MaxNoteChars      = 1000
	MaxAppealChars    = 1000
	MaxSuspensionDays = 365
	MaxModeratedShown = 100 // the viewer's own held and removed comments listed on one article
)

// cleanText returns s as one trimmed text of at most max characters; what names it in errors. An empty text
// is refused when it is required.
func cleanText(what, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(CodeInvalid, "the %s is not valid UTF-8", what)
	}
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, strings.ReplaceAll(s, "\r\n", "\n")))
	if !hasInk(s) {
		s = "" // white space and invisible characters say nothing
	}
	switch n := utf8.RuneCountInString(s); {
	case n == 0 && required:
		return "", Errorf(CodeInvalid, "the %s must not be empty: every moderation action says why", what)
	case n > max:
		return "", Errorf(CodeInvalid, "the %s has %d characters; the limit is %d", what, n, max)
	}
	return s, nil
}

// siteRule returns the site's rule named rule (matched regardless of case), or BAD_USER_INPUT listing them.
func siteRule(site *Site, rule string) (string, error) {
	rule = strings.Join(strings.Fields(rule), " ")
	for _, r := range site.Rules {
		if strings.EqualFold(r, rule) {
			return r, nil
		}
	}
	return "", Errorf(CodeInvalid, "%q is not one of the site's rules: %s", truncateText(rule, 60), strings.Join(site.Rules, ", "))
}

func truncateText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// commentInContext returns comment id whatever its status, with its article and site.
func (s *Service) commentInContext(ctx context.Context, id int64) (*Comment, *Article, *Site, error) {
	all, err := s.threads.CommentsByID(ctx, []int64{id})
	if err != nil {
		return nil, nil, nil, err
	}
	c := all[id]
	if c == nil {
		return nil, nil, nil, Errorf(CodeNotFound, "no comment has this ID")
	}
	a, site, err := s.articleInContext(ctx, c.ArticleID)
	return c, a, site, err
}

// articleInContext returns article id with its site.
func (s *Service) articleInContext(ctx context.Context, id int64) (*Article, *Site, error) {
	articles, err := s.threads.ArticlesByID(ctx, []int64{id})
	if err != nil {
		return nil, nil, err
	}
	a := articles[id]
	if a == nil {
		return nil, nil, Errorf(CodeNotFound, "no article has this ID")
	}
	sites, err := s.sites.SitesByID(ctx, []int64{a.SiteID})
	if err != nil {
		return nil, nil, err
	}
	if sites[a.SiteID] == nil {
		return nil, nil, Errorf(CodeNotFound, "no article has this ID")
	}
	return a, sites[a.SiteID], nil
}

// commentFor returns comment id, with its article and site, and the reader acting, if the viewer may do act
// to it. A refusal about a comment the viewer could not see anyway reads NOT_FOUND.
func (s *Service) commentFor(ctx context.Context, act Act, id int64) (*Comment, *Article, *Site, *Reader, error) {
	c, article, site, err := s.commentInContext(ctx, id)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	r, err := s.authorize(ctx, act, site.ID, c)
	if err != nil {
		return nil, nil, nil, nil, hideUnseen(ctx, c, err)
	}
	return c, article, site, r, nil
}

// moderateComment checks that the viewer moderates the comment's site and applies the action to it.
func (s *Service) moderateComment(ctx context.Context, id int64, a *ModerationAction, change StatusChange, prepare func(*Site) error) (*Comment, error) {
	c, article, site, _, err := s.commentFor(ctx, ActModerate, id)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		if err := prepare(site); err != nil {
			return nil, err
		}
	}
	a.SiteID, a.ArticleID, a.CommentID, a.ReaderID = site.ID, article.ID, c.ID, c.AuthorID
	a.Moderator, a.At = viewerOf(ctx).moderator(), s.now()
	return inOrder(ctx, s, article.ID, func() (*Comment, error) { return s.moderation.Moderate(ctx, a, &change) },
		func(moderated *Comment) []Event { return Announced(WriteModerate, site.ID, c.Status, moderated) })
}

// hideUnseen answers NOT_FOUND instead of err for a comment the viewer could not see anyway, so that a refusal
// does not tell that a pending comment exists.
func hideUnseen(ctx context.Context, c *Comment, err error) error {
	if c.Status == StatusPending {
		if r := Viewer(ctx); r == nil || r.ID != c.AuthorID {
			return Errorf(CodeNotFound, "no comment has this ID")
		}
	}
	return err
}

// ApproveComment publishes a pending comment, or clears the reports of a published one; note is optional.
func (s *Service) ApproveComment(ctx context.Context, id int64, note string) (*Comment, error) {
	note, err := cleanText("note", note, MaxNoteChars, false)
	if err != nil {
		return nil, err
	}
	c, err := s.moderateComment(ctx, id, &ModerationAction{Kind: ActionApprove, Note: note},
		StatusChange{From: []Status{StatusPending}, ReportedFrom: []Status{StatusPublished}, To: StatusPublished}, nil)
	return c, err
}

// RemoveComment removes a published or pending comment, citing one of the site's rules, with an optional note
// to its author. Readers see "removed by a moderator" and the rule where it was.
func (s *Service) RemoveComment(ctx context.Context, id int64, rule, note string) (*Comment, error) {
	note, err := cleanText("note", note, MaxNoteChars, false)
	if err != nil {
		return nil, err
	}
	a := &ModerationAction{Kind: ActionRemove, Note: note}
	return s.moderateComment(ctx, id, a, StatusChange{From: []Status{StatusPublished, StatusPending}, To: StatusRemoved},
		func(site *Site) error {
			a.Rule, err = siteRule(site, rule)
			return err
		})
}

// RestoreComment publishes a removed comment again; the reason is required.
func (s *Service) RestoreComment(ctx context.Context, id int64, reason string) (*Comment, error) {
	reason, err := cleanText("reason", reason, MaxNoteChars, true)
	if err != nil {
		return nil, err
	}
	return s.moderateComment(ctx, id, &ModerationAction{Kind: ActionRestore, Note: reason},
		StatusChange{From: []Status{StatusRemoved}, To: StatusPublished}, nil)
}

// SetArticleLocked locks an article (no new comments) or unlocks it, for a reason.
func (s *Service) SetArticleLocked(ctx context.Context, id int64, locked bool, reason string) (*Article, error) {
	reason, err := cleanText("reason", reason, MaxNoteChars, true)
	if err != nil {
		return nil, err
	}
	article, site, err := s.articleInContext(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, ActModerate, site.ID, nil); err != nil {
		return nil, err
	}
	kind := ActionUnlock
	if locked {
		kind = ActionLock
	}
	if article.Locked == locked {
		return nil, Errorf(CodeConflict, "the article is already %sed", kind)
	}
	a := &ModerationAction{SiteID: site.ID, ArticleID: id, Kind: kind, Note: reason, Moderator: viewerOf(ctx).moderator(), At: s.now()}
	if _, err := s.moderation.Moderate(ctx, a, nil); err != nil {
		return nil, err
	}
	s.changed(id)
	article.Locked = locked
	return article, nil
}

// SuspendReader keeps a reader of the site from writing for a number of days, for a reason shown to them.
func (s *Service) SuspendReader(ctx context.Context, readerID int64, days int, reason string) (*Reader, error) {
	reason, err := cleanText("reason", reason, MaxNoteChars, true)
	if err != nil {
		return nil, err
	}
	if days < 1 || days > MaxSuspensionDays {
		return nil, Errorf(CodeInvalid, "a suspension lasts 1 to %d days", MaxSuspensionDays)
	}
	readers, err := s.readers.ReadersByID(ctx, []int64{readerID})
	if err != nil {
		return nil, err
	}
	r := readers[readerID]
	if r == nil {
		return nil, Errorf(CodeNotFound, "no reader has this ID")
	}
	if _, err := s.authorize(ctx, ActModerate, r.SiteID, nil); err != nil {
		return nil, err
	}
	now := s.now()
	a := &ModerationAction{SiteID: r.SiteID, ReaderID: r.ID, Kind: ActionSuspend, Note: reason,
		Until: now.Add(time.Duration(days) * 24 * time.Hour), Moderator: viewerOf(ctx).moderator(), At: now}
	if _, err := s.moderation.Moderate(ctx, a, nil); err != nil {
		return nil, err
	}
	r.SuspendedUntil, r.SuspensionReason = a.Until, reason
	s.readerChanged(CredentialsChangedBy(a))
	return r, nil
}

// ReportComment reports a published comment to the site's moderators, citing one of its rules. A reader
// reports a comment once; when the site's threshold of reports is reached, the comment is held for review.
func (s *Service) ReportComment(ctx context.Context, id int64, rule string) (*Comment, error) {
	c, article, site, r, err := s.commentFor(ctx, ActReport, id)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Status == StatusPending:
		return nil, hideUnseen(ctx, c, Errorf(CodeConflict, "the comment is already waiting for a moderator"))
	case c.Status != StatusPublished:
		return nil, Errorf(CodeConflict, "only a published comment can be reported")
	case c.AuthorID == r.ID:
		return nil, Errorf(CodeInvalid, "readers cannot report their own comments")
	}
	if rule, err = siteRule(site, rule); err != nil {
		return nil, err
	}
	if err := s.limit("reports", byReader(s.comments, r), byClient(ctx, s.writes)); err != nil {
		return nil, err
	}
	rep := &Report{CommentID: id, ReaderID: r.ID, Rule: rule, At: s.now()}
	return inOrder(ctx, s, article.ID, func() (*Comment, error) { return s.moderation.AddReport(ctx, rep, site.ReportThreshold) },
		func(reported *Comment) []Event { return Announced(WriteModerate, site.ID, c.Status, reported) })
}

// AppealModeration appeals, once, a moderator's removal of the viewer's comment, or its hold after reports.
func (s *Service) AppealModeration(ctx context.Context, id int64, text string) (*Appeal, error) {
	text, err := cleanText("appeal", text, MaxAppealChars, true)
	if err != nil {
		return nil, err
	}
	c, _, _, r, err := s.commentFor(ctx, ActAppeal, id)
	if err != nil {
		return nil, err
	}
	if !CanAppeal(c, nil) {
		return nil, Errorf(CodeConflict, "only a removed comment, or one held after reports, can be appealed")
	}
	ap := &Appeal{CommentID: id, AuthorID: r.ID, Text: text, At: s.now()}
	if err := s.moderation.AddAppeal(ctx, ap); err != nil {
		return nil, err
	}
	s.changed(c.ArticleID)
	return ap, nil
}

// AnswerAppeal answers the appeal about a comment with a decision and its reason. Reversing it publishes the
// comment.
func (s *Service) AnswerAppeal(ctx context.Context, commentID int64, decision Decision, reason string) (*Comment, *Appeal, error) {
	reason, err := cleanText("reason", reason, MaxNoteChars, true)
	if err != nil {
		return nil, nil, err
	}
	appeals, err := s.moderation.AppealsByComment(ctx, []int64{commentID})
	if err != nil {
		return nil, nil, err
	}
	ap := appeals[commentID]
	a := &ModerationAction{Kind: ActionAnswerAppeal, Note: reason, Decision: decision}
	change := StatusChange{From: []Status{StatusRemoved, StatusPending}, To: StatusPublished}
	if decision == DecisionUpheld {
		change = StatusChange{From: []Status{StatusRemoved, StatusPending}}
	}
	c, err := s.moderateComment(ctx, commentID, a, change, func(*Site) error {
		switch {
		case ap == nil:
			return Errorf(CodeNotFound, "the comment's author has not appealed")
		case ap.Decision != "":
			return Errorf(CodeConflict, "the appeal was already answered")
		case decision != DecisionUpheld && decision != DecisionReversed:
			return Errorf(CodeInvalid, "the decision is upheld or reversed")
		}
		a.AppealID = ap.ID
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	ap.Decision, ap.Answer, ap.AnsweredAt = decision, reason, a.At
	return c, ap, nil
}

// ModerationQueue returns a page of the site's comments waiting for a moderator: pending ones, reported ones,
// and those whose author appealed, oldest first, on one article or (articleID 0) all of them, and how many there are.
func (s *Service) ModerationQueue(ctx context.Context, siteID, articleID int64, req PageRequest) (*Page, int, error) {
	if _, err := s.authorize(ctx, ActModerate, siteID, nil); err != nil {
		return nil, 0, err
	}
	req.Order = OrderOldest
	list, total, err := s.moderation.ModerationQueue(ctx, siteID, articleID, req)
	if err != nil {
		return nil, 0, err
	}
	return newPage(list, req), total, nil
}

// ModerationLog returns an article's moderation log, newest first: up to first actions before the one with
// ID before (0 for the newest), and whether more follow. It is public.
func (s *Service) ModerationLog(ctx context.Context, articleID int64, first int, before int64) ([]*ModerationAction, bool, error) {
	list, err := s.moderation.ModerationLog(ctx, articleID, before, first+1)
	if err != nil || len(list) <= first {
		return list, false, err
	}
	return list[:first], true, nil
}

// ModerationTotals counts the site's moderation actions by kind, rule and decision: its transparency report.
func (s *Service) ModerationTotals(ctx context.Context, siteID int64) ([]ActionTotal, error) {
	return s.moderation.ModerationTotals(ctx, siteID)
}

// CanSeeModeration reports whether the viewer may see how a comment was moderated (the note, the reports, the
// appeal): its author and the site's moderators may.
func CanSeeModeration(ctx context.Context, c *Comment, siteID int64) bool {
	v := viewerOf(ctx)
	return v.reader != nil && c.AuthorID != 0 && v.reader.ID == c.AuthorID || v.moderates(siteID)
}

// Appeals returns the appeals about the comments, keyed by comment ID. Callers check CanSeeModeration.
func (s *Service) Appeals(ctx context.Context, commentIDs []int64) (map[int64]*Appeal, error) {
	return s.moderation.AppealsByComment(ctx, commentIDs)
}

// ReportRules returns, for each comment, how often each rule was cited in its reports since it was last
// reviewed. Callers check that the viewer moderates the site.
func (s *Service) ReportRules(ctx context.Context, commentIDs []int64) (map[int64][]RuleCount, error) {
	return s.moderation.ReportRules(ctx, commentIDs)
}

// ViewerModerated returns the viewer's own comments on an article that readers do not see in full: pending
// and removed ones, newest first.
func (s *Service) ViewerModerated(ctx context.Context, articleID int64) ([]*Comment, error) {
	r := Viewer(ctx)
	if r == nil {
		return nil, nil
	}
	return s.moderation.CommentsByAuthor(ctx, r.ID, articleID, []Status{StatusPending, StatusRemoved}, MaxModeratedShown)
}
