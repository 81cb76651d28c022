package thread

import "context"

type viewerKey struct{}

type viewer struct {
	reader *Reader
	err    error // why the credentials given were refused
}

// WithViewer returns a context for a request made by reader r, or by an anonymous reader when r is nil.
func WithViewer(ctx context.Context, r *Reader) context.Context {
	return context.WithValue(ctx, viewerKey{}, viewer{reader: r})
}

// WithRefusedViewer returns a context for a request whose credentials were refused with err. It reads as
// anonymous, but whatever needs a reader answers err rather than a plain "sign in".
func WithRefusedViewer(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, viewerKey{}, viewer{err: err})
}

// Viewer returns the reader making the request, or nil for an anonymous one.
func Viewer(ctx context.Context) *Reader {
	v, _ := ctx.Value(viewerKey{}).(viewer)
	return v.reader
}

// CheckedViewer returns the reader making the request, nil for an anonymous one, or the error that refused the
// credentials the request carried.
func CheckedViewer(ctx context.Context) (*Reader, error) {
	v, _ := ctx.Value(viewerKey{}).(viewer)
	return v.reader, v.err
}

// RequireViewer returns the reader making the request, or an UNAUTHENTICATED error.
func RequireViewer(ctx context.Context) (*Reader, error) {
	v, _ := ctx.Value(viewerKey{}).(viewer)
	switch {
	case v.err != nil:
		return nil, v.err
	case v.reader == nil:
		return nil, Errorf(CodeUnauthenticated, "this needs a reader token: create a reader and send its token as `Authorization: Bearer TOKEN`")
	}
	return v.reader, nil
}

// CanEdit reports whether reader r may edit or delete comment c.
func CanEdit(r *Reader, c *Comment) bool {
	return r != nil && c.AuthorID == r.ID && c.Status == StatusPublished
}
