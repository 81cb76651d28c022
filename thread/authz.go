package thread

import "context"

// Act is something a request asks to do. authorize decides, for every act, who may: it is the one place where
// Threadline's permissions are written.
type Act int

// The acts that need permission. Reading public threads needs none.
const (
	ActComment  Act = iota // post a comment or a reply on an article of the site
	ActLike                // like or unlike a comment
	ActReport              // report a comment to the site's moderators
	ActEdit                // change the body of one's own comment
	ActDelete              // delete one's own comment
	ActAppeal              // appeal a moderator's decision about one's own comment
	ActOwnData             // export or delete everything one wrote
	ActModerate            // approve, remove, restore, lock, suspend, answer appeals, read the queue
)

// verbs say each act in a FORBIDDEN message: "readers can only VERB ...".
var verbs = map[Act]string{
	ActComment: "comment", ActLike: "like comments", ActReport: "report comments", ActEdit: "edit",
	ActDelete: "delete", ActAppeal: "appeal decisions about", ActOwnData: "manage their data",
}

// authorize returns the reader the request acts as (nil for a moderator key) if it may do act on the site
// siteID (the site of the article or comment concerned; 0 when none is) and, for acts on a comment, on c.
func (s *Service) authorize(ctx context.Context, act Act, siteID int64, c *Comment) (*Reader, error) {
	v := viewerOf(ctx)
	if v.err != nil {
		return nil, v.err
	}
	if act == ActModerate {
		switch {
		case v.moderates(siteID):
			return v.reader, nil
		case v.reader == nil && v.keyID == 0:
			return nil, Errorf(CodeUnauthenticated, "moderation needs a moderator's sign-in token or the site's moderator key, as `Authorization: Bearer TOKEN`")
		}
		return nil, Errorf(CodeForbidden, "only the site's moderators may do this")
	}
	r, err := RequireViewer(ctx)
	if err != nil {
		return nil, err
	}
	if siteID != 0 && r.SiteID != siteID {
		return nil, Errorf(CodeForbidden, "a reader is an identity on one site: readers can %s only on their own site", verbs[act])
	}
	switch act {
	case ActEdit, ActDelete, ActAppeal:
		if c == nil || c.AuthorID != r.ID {
			return nil, Errorf(CodeForbidden, "readers can %s only their own comments", verbs[act])
		}
	}
	switch act {
	case ActComment, ActLike, ActReport, ActEdit:
		if now := s.now(); r.Suspended(now) {
			return nil, Errorf(CodeForbidden, "a moderator suspended you until %s: %s",
				r.SuspendedUntil.Format("2 January 2006 15:04 MST"), r.SuspensionReason)
		}
	}
	return r, nil
}
