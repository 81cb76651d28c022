package assets

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAcceptsEncoding(t *testing.T) {
	for _, tc := range []struct {
		header, coding string
		want           bool
	}{
		{"br, gzip", "br", true},
		{"gzip, deflate", "br", false},
		{"BR;q=0.5", "br", true},
		{"br;q=0", "br", false},
		{"br;q=0.0, gzip", "br", false},
		{"", "gzip", false},
	} {
		if got := acceptsEncoding(tc.header, tc.coding); got != tc.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v", tc.header, tc.coding, got)
		}
	}
}

func TestHandlerServesHashedNames(t *testing.T) {
	h := Handler("/embed")
	css := Path("/embed", "thread.css")
	if !strings.HasPrefix(css, "/embed/web/thread.") || css == "/embed/web/thread.css" {
		t.Fatalf("Path gave %q, want a content-hashed name", css)
	}
	for _, tc := range []struct {
		path, cache string
		status      int
	}{
		{css, "public, max-age=31536000, immutable", http.StatusOK},
		{"/embed/web/thread.css", "no-cache", http.StatusOK},
		{"/embed/web/thread.0123456789ab.css", "", http.StatusNotFound},
		{"/embed/web/missing.css", "", http.StatusNotFound},
		{"/other/web/thread.css", "", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.status || rec.Header().Get("Cache-Control") != tc.cache {
			t.Errorf("%s: %d %q, want %d %q", tc.path, rec.Code, rec.Header().Get("Cache-Control"), tc.status, tc.cache)
		}
		if tc.status == http.StatusOK && rec.Header().Get("Content-Type") != "text/css; charset=utf-8" {
			t.Errorf("%s: content type %q", tc.path, rec.Header().Get("Content-Type"))
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, css, nil)
	req.Header.Set("If-None-Match", `"`+byName["thread.css"].hash+`"`)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", rec.Code)
	}
}
