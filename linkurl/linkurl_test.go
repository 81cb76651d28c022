package linkurl

import (
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"http://e.com", true},
		{"https://e.com/a?b=c#d", true},
		{"HTTPS://E.COM/", true},
		{"hTtP://e.com", true},
		{"https://e.com/\"><script>alert(1)</script>", true}, // a link still, escaped where it is written
		{"https://user@e.com:8443/x", true},
		{"https://e.com/ünïcode", true},

		{"", false},
		{"javascript:alert(1)", false},
		{"JaVaScRiPt:alert(1)", false},
		{" javascript:alert(1)", false},
		{"java\tscript:alert(1)", false},
		{"java\nscript:alert(1)", false},
		{"\x00javascript:alert(1)", false},
		{"javascript&#58;alert(1)", false},
		{"&#106;avascript:alert(1)", false},
		{"javascript%3Aalert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"vbscript:msgbox(1)", false},
		{"file:///etc/passwd", false},
		{"mailto:a@e.com", false},
		{"ftp://e.com", false},
		{"blob:https://e.com/x", false},
		{" https://e.com", false},
		{"https://e.com ", false},
		{"https://e.com/\n", false},
		{"ht\ttps://e.com", false},
		{"https://e.com/a\tb", false},
		{"https://e.com/\x7f", false},
		{"https:\\\\evil.com", false},
		{"https://e.com\\@evil.com", false},
		{"http:e.com", false},
		{"https:/e.com", false},
		{"https:///e.com", false},
		{"//e.com", false},
		{"/x", false},
		{"#comment-1", false},
		{"e.com", false},
		{"httpſ://e.com", false},
		{"http://[::1", false},
		{"https://e.com/\xff", false},
	} {
		if got := Allowed(tc.url); got != tc.want {
			t.Errorf("Allowed(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"https://e.com", "javascript:x", " http://x", "HTTP://x/\t", "java\nscript:x", "https:\\\\x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !Allowed(s) {
			return
		}
		// Read the URL as a browser does (the URL Standard): strip leading and trailing C0 controls and
		// spaces, remove tabs and newlines, fold the scheme's case, read a backslash as a slash. What is
		// allowed must still be an absolute http(s) URL with a host, and unchanged by that reading.
		b := strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
		b = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(b)
		if b != s {
			t.Fatalf("Allowed(%q), which a browser reads as %q", s, b)
		}
		scheme, rest, _ := strings.Cut(strings.ToLower(b), ":")
		if scheme != "http" && scheme != "https" || !strings.HasPrefix(rest, "//") || len(rest) == 2 {
			t.Fatalf("Allowed(%q): scheme %q, then %q", s, scheme, rest)
		}
	})
}
