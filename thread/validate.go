package thread

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what readers write.
const (
	MaxBodyChars        = 10_000
	MaxDisplayNameChars = 50
)

// ValidateBody returns a comment body cleaned for storage: line endings normalised, surrounding white space
// trimmed. It refuses bodies with nothing visible (white space, zero-width and other invisible characters, marks
// with no base), bodies over MaxBodyChars characters and text that is not UTF-8. Bidirectional controls stay:
// right-to-left writing needs them, and the widget isolates each body so that they cannot reach past it.
func ValidateBody(body string) (string, error) {
	if !utf8.ValidString(body) {
		return "", Errorf(CodeInvalid, "the body is not valid UTF-8")
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1 // other control characters have no place in text and confuse terminals and logs
	}, body)
	body = strings.TrimSpace(body)
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		return "", Errorf(CodeInvalid, "the body must not be empty")
	case n > MaxBodyChars:
		return "", Errorf(CodeInvalid, "the body has %d characters; the limit is %d", n, MaxBodyChars)
	case !hasInk(body):
		return "", errEmptyBody
	}
	return body, nil
}

// PrepareBody validates a body (see ValidateBody) and renders it, refusing it if what readers would see of it
// is empty. It returns the body to store and its HTML.
func PrepareBody(body string) (string, string, error) {
	body, err := ValidateBody(body)
	if err != nil {
		return "", "", err
	}
	rendered, err := renderBody(body)
	if err != nil {
		return "", "", err
	}
	return body, rendered, nil
}

// ValidateDisplayName returns a display name as cleanName leaves it, or an error if it is not one line, is
// longer than MaxDisplayNameChars characters, or has nothing visible.
func ValidateDisplayName(name string) (string, error) {
	name, err := cleanName("display name", name)
	if err != nil {
		return "", err
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0 || !hasInk(name):
		return "", Errorf(CodeInvalid, "the display name must have some visible characters")
	case n > MaxDisplayNameChars:
		return "", Errorf(CodeInvalid, "the display name has %d characters; the limit is %d", n, MaxDisplayNameChars)
	}
	return name, nil
}

// ImportedName returns the name an imported comment is shown under: cleaned as a display name, cut to
// MaxDisplayNameChars characters, and "" (anonymous) when nothing visible is left. An import keeps a comment
// whose author's name is unusable rather than drop it.
func ImportedName(name string) string {
	name, err := cleanName("display name", strings.Map(func(r rune) rune {
		// Imports come from other systems' files: their stray line breaks are spaces, their bad bytes dropped.
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(name, "")))
	if err != nil || !hasInk(name) {
		return ""
	}
	if utf8.RuneCountInString(name) > MaxDisplayNameChars {
		name, _ = cleanName("display name", string([]rune(name)[:MaxDisplayNameChars])) // what the cut left at the end
	}
	return name
}

// ValidFrameAncestor reports whether origin may stand in a site's list of embedding origins: "*", or an
// http(s) origin with no path ("https://blog.example", "http://localhost:8081").
func ValidFrameAncestor(origin string) bool {
	if origin == "*" {
		return true
	}
	rest, ok := strings.CutPrefix(origin, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(origin, "http://")
	}
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' || r == '[' || r == ']') {
			return false
		}
	}
	return true
}

// ListedStatuses are the statuses of the comments that have a place in lists: published comments, and the
// placeholders of removed ones and of deleted ones. A store's pages list these and no others.
var ListedStatuses = []Status{StatusPublished, StatusRemoved, StatusDeleted}

// Listed reports whether c has a place in lists.
func (c *Comment) Listed() bool { return slices.Contains(ListedStatuses, c.Status) }

// CheckDelete returns a CONFLICT unless c's author may delete it. A store checks it on the comment as its
// transaction reads it, so that a moderator's removal at the same time wins or loses cleanly.
func CheckDelete(c *Comment) error {
	if c.Status != StatusPublished {
		return Errorf(CodeConflict, "only a published comment can be deleted")
	}
	return nil
}
