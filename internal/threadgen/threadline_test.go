package threadgen_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/importer"
	"github.com/threadline/threadline/internal/threadgen"
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// The export WriteThreadline writes, imported, is the thread Generate creates: the same site, article, comments,
// authors and times, so that the load tests seed a database through `threadline import` and measure the same
// thread as before.
func TestWriteThreadlineImportsAsGenerateCreates(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ topLevel, replies int }{{1, 0}, {3, 3}, {25, 3}} {
		open := func(name string) *thread.Service {
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), name))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return thread.NewService(db)
		}
		generated, imported := open("generated.db"), open("imported.db")
		if _, err := threadgen.Generate(ctx, generated, tc.topLevel, tc.replies); err != nil {
			t.Fatal(err)
		}
		var file bytes.Buffer
		if err := threadgen.WriteThreadline(&file, tc.topLevel, tc.replies); err != nil {
			t.Fatal(err)
		}
		summary, err := importer.Import(ctx, imported, "threadline", &file, importer.Options{Site: threadgen.Site})
		if err != nil {
			t.Fatal(err)
		}
		if want := tc.topLevel * (1 + tc.replies); summary.Comments != want || summary.Skips != 0 {
			t.Fatalf("%d×%d: imported %d comments, skipped %d; want %d, none skipped", tc.topLevel, tc.replies, summary.Comments, summary.Skips, want)
		}
		var a, b bytes.Buffer
		if err := archive.Write(ctx, generated, threadgen.Site, "", &a); err != nil {
			t.Fatal(err)
		}
		if err := archive.Write(ctx, imported, threadgen.Site, "", &b); err != nil {
			t.Fatal(err)
		}
		// The article's creation time is when Generate ran.
		created := regexp.MustCompile(`("key":"generated"[^{]*?"createdAt":)"[^"]*"`)
		if x, y := created.ReplaceAll(a.Bytes(), []byte(`$1"…"`)), created.ReplaceAll(b.Bytes(), []byte(`$1"…"`)); !bytes.Equal(x, y) {
			t.Fatalf("%d×%d: the exports differ:\ngenerated: %.2000s\nimported:  %.2000s", tc.topLevel, tc.replies, x, y)
		}
	}
}
