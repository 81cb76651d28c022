package thread

import "testing"

// TestCheckImportThread: an imported thread is checked as a page's first embed is.
func TestCheckImportThread(t *testing.T) {
	for _, tc := range []struct {
		name        string
		in          ImportThread
		ok          bool
		key, title  string
		url, source string
	}{
		{"plain", ImportThread{Key: " post ", Title: " A  post ", URL: "https://blog.example/post"}, true, "post", "A post", "https://blog.example/post", "post"},
		{"no title", ImportThread{SourceID: "7", Key: "post"}, true, "post", "post", "", "7"},
		{"a URL not to link to", ImportThread{Key: "post", URL: "javascript:alert(1)"}, true, "post", "post", "", "post"},
		{"a key of two lines", ImportThread{Key: "post\nother"}, false, "", "", "", ""},
		{"no key", ImportThread{Key: "  "}, false, "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			err := CheckImportThread(&got)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && (got.Key != tc.key || got.Title != tc.title || got.URL != tc.url || got.SourceID != tc.source) {
				t.Errorf("got %+v", got)
			}
		})
	}
}
