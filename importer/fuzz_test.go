package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/thread"
)

// collector is a sink that keeps nothing but checks what it is given, as the importer would.
type collector struct {
	t       *testing.T
	threads map[string]bool
}

func (c *collector) site(archive.Site) error { return nil }
func (c *collector) thread(t thread.ImportThread) {
	if thread.CheckImportThread(&t) == nil {
		c.threads[t.SourceID] = true
	}
}

func (c *collector) post(p thread.ImportPost) error {
	if err := thread.CheckImportPost(&p); err == nil && p.Body != "" && p.BodyHTML == "" {
		c.t.Fatalf("a checked post has a body but no HTML: %+v", p)
	}
	return nil
}
func (c *collector) appeal(thread.ImportAppeal) {}
func (c *collector) action(thread.ImportAction) {}
func (c *collector) skip(string, string)        {}

// fuzzFormat feeds a format's reader arbitrary bytes, starting from the fixtures: it never panics, never
// hangs, and answers a file it cannot read with an error.
func fuzzFormat(f *testing.F, read func([]byte, sink) error, seeds ...string) {
	for _, s := range seeds {
		b, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(""))
	f.Add([]byte("<"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = read(data, &collector{t: t, threads: map[string]bool{}})
	})
}

func FuzzDisqus(f *testing.F) {
	fuzzFormat(f, func(b []byte, s sink) error { return readDisqus(bytes.NewReader(b), s) }, "disqus.xml")
}

func FuzzWXR(f *testing.F) {
	fuzzFormat(f, func(b []byte, s sink) error { return readWXR(bytes.NewReader(b), s) }, "wordpress.xml")
}

func FuzzThreadline(f *testing.F) {
	f.Add([]byte(`{"format": "threadline", "version": 1, "site": {"slug": "s", "name": "S", "rules": ["Spam"]},
"articles": [{"key": "k", "title": "T", "createdAt": "2026-11-01T12:00:00Z", "comments": [
  {"id": "c1", "body": "Hello", "status": "published", "likes": 2, "createdAt": "2026-11-01T12:00:00Z"},
  {"id": "c2", "parent": "c1", "author": "Ada", "body": "Hi", "status": "removed", "rule": "Spam", "createdAt": "2026-11-01T12:01:00Z"}]}],
"appeals": [{"comment": "c2", "text": "Why?", "createdAt": "2026-11-01T12:02:00Z"}],
"moderation": [{"action": "remove", "article": "k", "comment": "c2", "by": "moderator", "rule": "Spam", "at": "2026-11-01T12:01:30Z"}]}`))
	fuzzFormat(f, func(b []byte, s sink) error { return readThreadline(bytes.NewReader(b), s) })
}
