package columns

import (
	"slices"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

// TestJSONList: a nil list is written as an empty array, which the NOT NULL columns need.
func TestJSONList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "[]"},
		{[]string{}, "[]"},
		{[]string{"a", `"b"`}, `["a","\"b\""]`},
	} {
		if got, err := JSONList(tc.in); err != nil || got != tc.want {
			t.Errorf("JSONList(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestSiteRoundTrip: what SiteSettings writes, ReadSite reads back, with the stored defaults applied.
func TestSiteRoundTrip(t *testing.T) {
	in := &thread.Site{ID: 4, Name: "Blog", FrameAncestors: []string{"https://blog.example"}, EditWindow: 90 * time.Second,
		Rules: []string{"Spam"}}
	v, err := SiteSettings(in)
	if err != nil {
		t.Fatal(err)
	}
	if v[6] != 1 || v[8] != thread.DefaultEmbedArticlesPerHour {
		t.Errorf("threshold %v, embeds an hour %v: want 1 and %d", v[6], v[8], thread.DefaultEmbedArticlesPerHour)
	}
	out := &thread.Site{ID: 4}
	if err := ReadSite(out, v[1].(string), v[4].(string), v[3].(int64)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.FrameAncestors, in.FrameAncestors) || !slices.Equal(out.Rules, in.Rules) || out.EditWindow != in.EditWindow {
		t.Errorf("read back %+v, wrote %+v", out, in)
	}
	if err := ReadSite(out, "not json", "[]", 0); err == nil {
		t.Error("ReadSite accepted frame ancestors that are not JSON")
	}
}
