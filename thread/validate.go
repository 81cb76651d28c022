package thread

import (
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
// trimmed. It refuses empty bodies, bodies over MaxBodyChars characters and text that is not UTF-8.
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
	}
	return body, nil
}

// ValidateDisplayName returns a display name with its white space collapsed, or an error if it is empty, too
// long, or holds control characters.
func ValidateDisplayName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", Errorf(CodeInvalid, "the display name is not valid UTF-8")
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
		return "", Errorf(CodeInvalid, "the display name must be one line of text")
	}
	name = strings.Join(strings.Fields(name), " ")
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", Errorf(CodeInvalid, "the display name must not be empty")
	case n > MaxDisplayNameChars:
		return "", Errorf(CodeInvalid, "the display name has %d characters; the limit is %d", n, MaxDisplayNameChars)
	}
	return name, nil
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

// Listed reports whether c has a place in lists: published comments, and the placeholders of removed ones and
// of deleted ones.
func (c *Comment) Listed() bool {
	return c.Status == StatusPublished || c.Status == StatusRemoved || c.Status == StatusDeleted
}
