// Package linkurl decides which URLs that come from outside Threadline (a page's address, an article's stored
// URL, a link in a comment) may become a link, on the server and in the widget alike. It imports only the
// standard library's net/url, so that the WebAssembly can link it at little cost.
//
// Only absolute http and https URLs ever become links. A URL that fails the test is dropped (no link is drawn),
// never repaired: a repair is a guess at what a browser would make of it, and guesses are how schemes such as
// "java\tscript:" or " javascript:" get through.
package linkurl

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Allowed reports whether raw may be the href of a link: an absolute http or https URL, with a host, written
// so that a browser reads it exactly as written. Browsers strip leading and trailing spaces and controls and
// remove tabs and newlines anywhere in a URL, and read a backslash as a slash; a URL with any of these, or with
// any other control character or invalid UTF-8, is refused rather than judged on what a browser might make of
// it. The scheme is compared in ASCII only (Unicode case folding would equate "ſ" with "s").
func Allowed(raw string) bool {
	if !hasHTTPPrefix(raw) || !utf8.ValidString(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Opaque == "" && u.Host != ""
}

// hasHTTPPrefix reports whether s starts with "http://" or "https://", in any ASCII case.
func hasHTTPPrefix(s string) bool {
	for _, p := range []string{"http://", "https://"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) && isASCII(s[:len(p)]) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
