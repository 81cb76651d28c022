package thread

import (
	"context"
	"fmt"
	"time"
)

type viewerKey struct{}

// viewer is who makes a request: a reader (signed in by token or by the site), a site's moderator key, or
// nobody; err says why the credentials given, if any, were refused.
type viewer struct {
	reader *Reader
	// keySite and keyID are set for a request made with a moderator key of the site keySite.
	keySite, keyID int64
	err            error
	// acceptedUntil is when a session's token stops being accepted; zero for credentials that do not expire.
	acceptedUntil time.Time
}

// WithViewer returns a context for a request made by reader r, or by an anonymous reader when r is nil.
func WithViewer(ctx context.Context, r *Reader) context.Context {
	return context.WithValue(ctx, viewerKey{}, viewer{reader: r})
}

// withModeratorKey returns a context for a request made with moderator key keyID of site siteID.
func withModeratorKey(ctx context.Context, siteID, keyID int64) context.Context {
	return context.WithValue(ctx, viewerKey{}, viewer{keySite: siteID, keyID: keyID})
}

// WithRefusedViewer returns a context for a request whose credentials were refused with err. It reads as
// anonymous, but whatever needs a reader answers err rather than a plain "sign in".
func WithRefusedViewer(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, viewerKey{}, viewer{err: err})
}

func viewerOf(ctx context.Context) viewer {
	v, _ := ctx.Value(viewerKey{}).(viewer)
	return v
}

// Viewer returns the reader making the request, or nil for an anonymous one or a moderator key.
func Viewer(ctx context.Context) *Reader { return viewerOf(ctx).reader }

// CheckedViewer returns the reader making the request, nil for an anonymous one, or the error that refused the
// credentials the request carried.
func CheckedViewer(ctx context.Context) (*Reader, error) {
	v := viewerOf(ctx)
	return v.reader, v.err
}

// Anonymous reports whether the request carries no credentials at all.
func Anonymous(ctx context.Context) bool {
	v := viewerOf(ctx)
	return v.reader == nil && v.keyID == 0 && v.err == nil
}

// moderates reports whether the viewer moderates the site.
func (v viewer) moderates(siteID int64) bool {
	switch {
	case siteID == 0:
		return false
	case v.keyID != 0:
		return v.keySite == siteID
	case v.reader != nil:
		return v.reader.Moderator && v.reader.SiteID == siteID
	}
	return false
}

// moderator names the moderator for the log, which keeps it for the site's owner and never shows it.
func (v viewer) moderator() string {
	if v.keyID != 0 {
		return fmt.Sprint("key:", v.keyID)
	}
	return fmt.Sprint("reader:", v.reader.ID)
}

// Moderates reports whether the request's credentials moderate the site.
func Moderates(ctx context.Context, siteID int64) bool { return viewerOf(ctx).moderates(siteID) }

// RequireViewer returns the reader making the request, or an UNAUTHENTICATED error.
func RequireViewer(ctx context.Context) (*Reader, error) {
	v := viewerOf(ctx)
	switch {
	case v.err != nil:
		return nil, v.err
	case v.reader == nil && v.keyID != 0:
		return nil, Errorf(CodeForbidden, "a moderator key acts for the site, not as a reader: readers sign in to write")
	case v.reader == nil:
		return nil, Errorf(CodeUnauthenticated, "this needs a reader token: create a reader and send its token as `Authorization: Bearer TOKEN`")
	}
	return v.reader, nil
}

// CanEdit reports whether reader r may edit or delete comment c.
func CanEdit(r *Reader, c *Comment) bool {
	return r != nil && c.AuthorID == r.ID && c.Status == StatusPublished
}

// Grant is what a request's credentials were found to grant, in a form that compares: a live connection keeps
// the Grant it was accepted with, and its credentials still hold while authenticating them again gives the same.
type Grant struct {
	ReaderID, KeyID int64
	SiteID          int64 // the reader's site, or the moderator key's
	Moderator       bool
	// SuspendedUntil is the reader's suspension (Unix milliseconds), so that a new one reads as a change.
	SuspendedUntil int64
}

// GrantOf returns what the request's credentials grant; the zero Grant for an anonymous request.
func GrantOf(ctx context.Context) Grant {
	v := viewerOf(ctx)
	switch {
	case v.keyID != 0:
		return Grant{KeyID: v.keyID, SiteID: v.keySite, Moderator: true}
	case v.reader != nil:
		return Grant{ReaderID: v.reader.ID, SiteID: v.reader.SiteID, Moderator: v.reader.Moderator,
			SuspendedUntil: v.reader.SuspendedUntil.UnixMilli()}
	}
	return Grant{}
}

// AcceptedUntil returns when the request's credentials stop being accepted, by the service's clock: a session's
// expiry plus the grace Authenticate allows. It is the zero time for credentials that do not expire.
func AcceptedUntil(ctx context.Context) time.Time { return viewerOf(ctx).acceptedUntil }

// OnReaderChange registers fn to be called, with the reader's ID, after a change to a reader that may withdraw
// what their credentials grant: a suspension, or the deletion of their account. Changes to a whole site (its
// secret rotated) are told to OnChange with 0. It runs synchronously, so it must be quick.
func (s *Service) OnReaderChange(fn func(readerID int64)) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.onReaders = append(s.onReaders, fn)
}

// ReaderChangedElsewhere tells the OnReaderChange functions that a write committed by another server (or
// command) on a shared database changed a reader's credentials, as its log says (see CredentialsChangedBy).
func (s *Service) ReaderChangedElsewhere(readerID int64) { s.readerChanged(readerID) }

// CredentialsChangedBy returns the reader whose credentials a moderation action changes, 0 for none: a
// suspension withdraws the right to write. The Service tells OnReaderChange of that reader once the action
// committed; a store that logs events (EventLogger) records that reader in the action's transaction, so that
// every server hears of it. The deletion of an account (ReaderStore.DeleteReader) always changes its reader's.
func CredentialsChangedBy(a *ModerationAction) int64 {
	if a != nil && a.Kind == ActionSuspend {
		return a.ReaderID
	}
	return 0
}

func (s *Service) readerChanged(readerID int64) {
	s.changeMu.RLock()
	defer s.changeMu.RUnlock()
	for _, fn := range s.onReaders {
		fn(readerID)
	}
}
