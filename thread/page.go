package thread

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Order is the order of a list of comments.
type Order int

// The orders the API offers. Replies are always listed OrderOldest.
const (
	OrderTop    Order = iota // most liked first, then oldest first
	OrderNewest              // newest first
	OrderOldest              // oldest first
)

func (o Order) String() string {
	switch o {
	case OrderTop:
		return "top"
	case OrderNewest:
		return "newest"
	case OrderOldest:
		return "oldest"
	}
	return "order(" + strconv.Itoa(int(o)) + ")"
}

// Page sizes: a list without `first` gets DefaultPageSize items, and no page has more than MaxPageSize.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// PageSize turns a client's `first` into a page size: the default when absent, capped at MaxPageSize.
func PageSize(first *int) (int, error) {
	switch {
	case first == nil:
		return DefaultPageSize, nil
	case *first < 0:
		return 0, Errorf(CodeInvalid, "first must not be negative")
	case *first > MaxPageSize:
		return MaxPageSize, nil
	}
	return *first, nil
}

// Key is a comment's position in every order: keyset pagination resumes after a key, so a page costs the
// same however deep into the thread it is, and inserts never shift what a cursor points at.
type Key struct {
	LikeCount int
	CreatedAt int64 // Unix milliseconds
	ID        int64
}

// KeyOf returns c's position.
func KeyOf(c *Comment) Key {
	return Key{LikeCount: c.LikeCount, CreatedAt: c.CreatedAt.UnixMilli(), ID: c.ID}
}

// PageRequest asks for the comments after After (from the start when nil), First of them, in Order.
type PageRequest struct {
	Order Order
	First int
	After *Key
}

// Page is one page of a comment list.
type Page struct {
	Comments []*Comment
	HasNext  bool
	Order    Order
}

// Cursor returns the opaque cursor of c in this page's order.
func (p *Page) Cursor(c *Comment) string { return EncodeCursor(p.Order, KeyOf(c)) }

// cursorVersion prefixes every cursor so that the format can change without misreading old cursors.
const cursorVersion = "c1"

// EncodeCursor returns the opaque cursor for key in order. Cursors name their order, so a cursor from one
// order is refused by another instead of silently skipping comments.
func EncodeCursor(o Order, k Key) string {
	raw := fmt.Sprintf("%s:%s:%d:%d:%d", cursorVersion, o, k.LikeCount, k.CreatedAt, k.ID)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a cursor made by EncodeCursor for order o.
func DecodeCursor(o Order, cursor string) (Key, error) {
	bad := func(why string) (Key, error) {
		return Key{}, Errorf(CodeInvalid, "invalid cursor: %s", why)
	}
	if len(cursor) > 128 {
		return bad("too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return bad("not a cursor")
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 5 || parts[0] != cursorVersion {
		return bad("not a cursor")
	}
	if parts[1] != o.String() {
		return bad("it belongs to the " + parts[1] + " order, not " + o.String())
	}
	var k Key
	var likes int64
	if likes, err = strconv.ParseInt(parts[2], 10, 32); err != nil || likes < 0 {
		return bad("not a cursor")
	}
	k.LikeCount = int(likes)
	if k.CreatedAt, err = strconv.ParseInt(parts[3], 10, 64); err != nil {
		return bad("not a cursor")
	}
	if k.ID, err = strconv.ParseInt(parts[4], 10, 64); err != nil || k.ID <= 0 {
		return bad("not a cursor")
	}
	return k, nil
}
