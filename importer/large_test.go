package importer_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadline/threadline/importer"
)

// writeDisqus writes a Disqus export of threads threads and about size bytes of posts, each a reply to the one
// before it in its thread every third time, as a stream.
func writeDisqus(w io.Writer, threads int, size int64) (posts int, err error) {
	out := bufio.NewWriter(w)
	fmt.Fprint(out, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">`+"\n")
	for i := range threads {
		fmt.Fprintf(out, `<thread dsq:id="t%d"><id>article-%d</id><link>https://blog.example/%d</link><title>Article %d</title><createdAt>2020-01-01T00:00:00Z</createdAt></thread>`+"\n", i, i, i, i)
	}
	body := "<p>" + strings.Repeat("A sentence of a long comment, with <b>some</b> markup. ", 36) + "</p>"
	var written int64
	for ; written < size; posts++ {
		parent := ""
		if posts%3 == 2 {
			parent = fmt.Sprintf(`<parent dsq:id="p%d"/>`, posts-1)
		}
		n, err := fmt.Fprintf(out, `<post dsq:id="p%d"><message><![CDATA[%s]]></message><createdAt>2020-01-01T%02d:%02d:%02dZ</createdAt>`+
			`<isDeleted>false</isDeleted><isSpam>false</isSpam><author><email>a%d@mail.example</email><name>Reader %d</name></author>`+
			`<ipAddress>192.0.2.1</ipAddress><thread dsq:id="t%d"/>%s</post>`+"\n",
			posts, body, posts/3600%24, posts/60%60, posts%60, posts%1000, posts%1000, posts%threads, parent)
		if err != nil {
			return posts, err
		}
		written += int64(n)
	}
	fmt.Fprint(out, "</disqus>\n")
	return posts, out.Flush()
}

// TestImportKeepsMemoryFlat imports a generated 200 MB Disqus file, streamed, and samples the heap meanwhile:
// its peak stays a small fraction of the file's size.
func TestImportKeepsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 200 MB")
	}
	_, svc := newSite(t)
	size := int64(200 << 20)
	if s := os.Getenv("IMPORT_TEST_MB"); s != "" {
		mb, _ := strconv.Atoi(s)
		size = int64(mb) << 20
	}
	r, w := io.Pipe()
	generated := make(chan int, 1)
	go func() {
		n, err := writeDisqus(w, 50, size)
		w.CloseWithError(err)
		generated <- n
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
