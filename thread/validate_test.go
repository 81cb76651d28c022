package thread

import (
	"encoding/base64"
	"strings"
	"testing"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestValidateBody(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "hello", "hello", true},
		{"trimmed", "  \n hello \n ", "hello", true},
		{"crlf", "a\r\nb", "a\nb", true},
		{"keeps line breaks", "a\nb\n\nc", "a\nb\n\nc", true},
		{"drops control characters", "a\x00b\x1bc", "abc", true},
		{"cyrillic", "ИОСИФ", "ИОСИФ", true},
		{"exactly the limit", strings.Repeat("é", MaxBodyChars), strings.Repeat("é", MaxBodyChars), true},
		{"empty", "", "", false},
		{"white space only", " \n\t ", "", false},
		{"over the limit", strings.Repeat("a", MaxBodyChars+1), "", false},
		{"not utf-8", "a\xffb", "", false},
	} {
		got, err := ValidateBody(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("%s: got %q, %v", tc.name, got, err)
		}
		if err != nil && ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: code %s, want %s", tc.name, ErrorCode(err), CodeInvalid)
		}
	}
}

func TestValidateDisplayName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Lianne Abrahams", "Lianne Abrahams", true},
		{"  Lianne   Abrahams ", "Lianne Abrahams", true},
		{"ИОСИФ Joseph Секейра Мендес Sequeira Mendes", "ИОСИФ Joseph Секейра Мендес Sequeira Mendes", true},
		{strings.Repeat("x", MaxDisplayNameChars), strings.Repeat("x", MaxDisplayNameChars), true},
		{strings.Repeat("x", MaxDisplayNameChars+1), "", false},
		{"", "", false},
		{"   ", "", false},
		{"two\nlines", "", false},
		{"bad\xff", "", false},
	} {
		got, err := ValidateDisplayName(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("%q: got %q, %v", tc.in, got, err)
		}
	}
}

func TestErrorMessagesHideInternals(t *testing.T) {
	internal := &Error{Code: CodeInternal, Message: "disk on fire", Err: errFake("sqlite: I/O error")}
	if got := ErrorMessage(internal); got != "internal error" {
		t.Errorf("internal message leaked: %q", got)
	}
	if got := ErrorMessage(errFake("raw")); got != "internal error" {
		t.Errorf("untyped message leaked: %q", got)
	}
	if got := ErrorCode(errFake("raw")); got != CodeInternal {
		t.Errorf("untyped error code %s", got)
	}
	if got := ErrorMessage(Errorf(CodeForbidden, "no")); got != "no" {
		t.Errorf("client message lost: %q", got)
	}
}

func TestValidFrameAncestor(t *testing.T) {
	for origin, want := range map[string]bool{
		"*":                               true,
		"https://blog.example":            true,
		"http://localhost:8081":           true,
		"https://[::1]:8443":              true,
		"https://":                        false,
		"blog.example":                    false,
		"https://blog.example/a":          false,
		"javascript:alert(1)":             false,
		"https://a.example; script-src *": false,
		"'self'":                          false,
		"":                                false,
	} {
		if got := ValidFrameAncestor(origin); got != want {
			t.Errorf("ValidFrameAncestor(%q) = %v", origin, got)
		}
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }
