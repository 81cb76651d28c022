package importer_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadline/threadline/importer"
	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/internal/threadgen"
)

// TestImportKeepsMemoryFlat imports a generated 200 MB Disqus file, streamed, and samples the heap meanwhile:
// its peak stays a small fraction of the file's size.
func TestImportKeepsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 200 MB")
	}
	// The bound is the importer's (it streams); on PostgreSQL the store's own garbage (pgx encodes each row's
	// arguments anew, about 12 KB a comment) lifts the peak to 84 MB, and the test takes 40 s of the second pass.
	teststore.Only(t, teststore.SQLite, "the importer's memory is measured with the SQLite store; on PostgreSQL its heap peaks at 84 MB for 200 MB, over the 64 MB bound")
	_, svc := newSite(t)
	size := int64(200 << 20)
	if s := os.Getenv("IMPORT_TEST_MB"); s != "" {
		mb, _ := strconv.Atoi(s)
		size = int64(mb) << 20
	}
	r, w := io.Pipe()
	generated := make(chan int, 1)
	body := "<p>" + strings.Repeat("A sentence of a long comment, with <b>some</b> markup. ", 36) + "</p>"
	comments := int(size / 2300) // each post is about 2.3 KB
	go func() {
		_, err := threadgen.WriteDisqus(w, 50, comments, body)
		w.CloseWithError(err)
		generated <- comments
	}()

	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	s, err := importer.Import(context.Background(), svc, "disqus", r, importer.Options{Site: "gazette"})
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	posts := <-generated
	took := time.Since(start)
	t.Logf("imported %d comments (%d MB) in %s: %.0f comments/s, peak heap %d MB", s.Comments, size>>20, took.Round(time.Millisecond),
		float64(s.Comments)/took.Seconds(), peak.Load()>>20)
	if s.Comments != posts || s.Skips != 0 {
		t.Errorf("imported %d of %d comments, skipped %d", s.Comments, posts, s.Skips)
	}
	if p := peak.Load(); p > 64<<20 {
		t.Errorf("the heap peaked at %d MB while importing %d MB", p>>20, size>>20)
	}
}
