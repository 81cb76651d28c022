// Package importer brings comments into Threadline from elsewhere: Disqus's XML export, WordPress's WXR, and
// Threadline's own JSON export. Each format is read as a stream, one thread or comment at a time, and written
// in batched transactions, so memory stays flat whatever the file's size; every item is checked before
// anything of it is written, and what was imported before is skipped, so importing a file twice changes
// nothing.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/thread"
)

// Formats are the formats Import reads.
var Formats = []string{"disqus", "wxr", "threadline"}

// Options say how to import.
type Options struct {
	Site      string // the slug of the site to import into
	DryRun    bool   // read and check everything, write nothing
	BatchSize int    // comments per transaction; 0 for DefaultBatchSize
	// Progress, if set, is called after each batch with the bytes read so far and the summary so far.
	Progress func(bytesRead int64, s *Summary)
}

// DefaultBatchSize is how many comments one transaction writes.
const DefaultBatchSize = 2000

// Summary is what an import did, and what it skipped and why.
type Summary struct {
	thread.ImportStats
	Read    int    // comments read from the file
	Skipped []Skip // the first MaxSkipsListed items skipped
	Skips   int    // how many were skipped in all
	DryRun  bool
	// Moderation counts the moderation actions and appeals written; SiteCreated says the import made the site.
	Moderation  int
	SiteCreated bool
}

// Skip is an item an import left out.
type Skip struct {
	Item string // what it is in the source: "post 1234"
	Why  string
}

// MaxSkipsListed bounds the skips a summary lists one by one.
const MaxSkipsListed = 100

// sink receives what a format reader reads, in file order.
type sink interface {
	site(s archive.Site) error // Threadline's own format only: the site's settings, read first
	thread(t thread.ImportThread)
	post(p thread.ImportPost) error // an error from writing ends the import
	appeal(a thread.ImportAppeal)
	action(a thread.ImportAction)
	skip(item, why string)
}

// Import reads r in format and writes what it holds into the site.
func Import(ctx context.Context, svc *thread.Service, format string, r io.Reader, opts Options) (*Summary, error) {
	read, ok := readers[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q: use one of %v", format, Formats)
	}
	// Threadline's own export may bring its site along; the other formats import into a site that exists.
	if _, err := svc.Site(ctx, opts.Site); err != nil && (format != "threadline" || thread.ErrorCode(err) != thread.CodeNotFound) {
		return nil, fmt.Errorf("site %q: %s", opts.Site, thread.ErrorMessage(err))
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	counted := &countingReader{r: r}
	im := &importer{ctx: ctx, svc: svc, format: format, opts: opts, in: counted, seen: map[string]bool{},
		summary: &Summary{DryRun: opts.DryRun}, html: format != "threadline", batches: make(chan batch, 1), written: make(chan error, 1)}
	go im.write()
	err := read(counted, im)
	if err == nil {
		err = im.flush()
	}
	close(im.batches)
	if werr := <-im.written; err == nil {
		err = werr
	}
	if err != nil {
		return im.summary, err
	}
	if len(im.appeals)+len(im.actions) > 0 && !opts.DryRun {
		n, err := svc.ImportModeration(ctx, opts.Site, format, im.actions, im.appeals)
		im.summary.Moderation = n
		if err != nil {
			return im.summary, err
		}
	}
	return im.summary, nil
}

// readers read each format.
var readers = map[string]func(io.Reader, sink) error{
	"disqus":     readDisqus,
	"wxr":        readWXR,
	"threadline": readThreadline,
}

// importer batches what the format reader reads and writes it. Reading, converting bodies and writing
// overlap: each full batch has its bodies converted on every core, then goes to a writer goroutine while the
// next batch is read.
type importer struct {
	html    bool // the format's bodies are HTML, to convert to Markdown
	batches chan batch
	written chan error // the writer's end: nil, or why it stopped
	mu      sync.Mutex // guards summary against the writer goroutine
	ctx     context.Context
	svc     *thread.Service
	format  string
	opts    Options
	in      *countingReader
	seen    map[string]bool // the threads read so far, by source ID
	threads []thread.ImportThread
	posts   []thread.ImportPost
	appeals []thread.ImportAppeal // written at the end, once every comment is in
	actions []thread.ImportAction
	summary *Summary
}

// site creates the site from the export's settings if there is none with the slug imported into.
func (im *importer) site(s archive.Site) error {
	if _, err := im.svc.Site(im.ctx, im.opts.Site); thread.ErrorCode(err) != thread.CodeNotFound || im.opts.DryRun {
		return nil
	}
	_, _, _, err := im.svc.CreateSite(im.ctx, im.opts.Site, thread.SiteSettings{Name: s.Name, Origins: s.Origins,
		Premoderation: s.Premoderation, EditWindow: time.Duration(s.EditWindowSeconds) * time.Second, Rules: s.Rules,
		ReportThreshold: s.ReportThreshold})
	if err != nil {
		return fmt.Errorf("create the site %q: %s", im.opts.Site, thread.ErrorMessage(err))
	}
	im.summary.SiteCreated = true
	return nil
}

func (im *importer) appeal(a thread.ImportAppeal) { im.appeals = append(im.appeals, a) }
func (im *importer) action(a thread.ImportAction) { im.actions = append(im.actions, a) }

func (im *importer) thread(t thread.ImportThread) {
	if err := thread.CheckImportThread(&t); err != nil {
		im.skip("thread "+t.SourceID, thread.ErrorMessage(err))
		return
	}
	if im.seen[t.SourceID] {
		return
	}
	im.seen[t.SourceID] = true
	im.threads = append(im.threads, t)
}

func (im *importer) post(p thread.ImportPost) error {
	im.mu.Lock()
	im.summary.Read++
	im.mu.Unlock()
	if !im.seen[p.ThreadID] {
		im.skip("comment "+p.SourceID, "its thread is not in the file, or came after it")
		return nil
	}
	im.posts = append(im.posts, p)
	if len(im.posts) >= im.opts.BatchSize {
		return im.flush()
	}
	return nil
}

func (im *importer) skip(item, why string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.summary.Skips++
	if len(im.summary.Skipped) < MaxSkipsListed {
		im.summary.Skipped = append(im.summary.Skipped, Skip{Item: item, Why: why})
	}
}

// batch is what one transaction writes.
type batch struct {
	threads []thread.ImportThread
	posts   []thread.ImportPost
	read    int64 // bytes read when it was full
}

// flush converts and checks the batch read so far, on every core, and hands it to the writer.
func (im *importer) flush() error {
	if len(im.threads) == 0 && len(im.posts) == 0 {
		return nil
	}
	posts := im.posts
	failed := make([]error, len(posts))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(posts); i += workers {
				if im.html {
					posts[i].Body = markdownOf(posts[i].Body)
				}
				failed[i] = thread.CheckImportPost(&posts[i])
			}
		}()
	}
	wg.Wait()
	kept := posts[:0]
	for i, p := range posts {
		if failed[i] != nil {
			im.skip("comment "+p.SourceID, thread.ErrorMessage(failed[i]))
			continue
		}
		kept = append(kept, p)
	}
	select {
	case im.batches <- batch{threads: im.threads, posts: kept, read: im.in.n}:
	case err := <-im.written: // the writer stopped: stop reading
		im.written <- err
		return err
	}
	im.threads, im.posts = nil, nil
	return nil
}

// write writes the batches in order, until they end or one fails.
func (im *importer) write() {
	var err error
	for b := range im.batches {
		if err != nil {
			continue // drain: the reader learns of the failure at its next batch
		}
		var st thread.ImportStats
		if im.opts.DryRun {
			st = thread.ImportStats{Threads: len(b.threads), Comments: len(b.posts)}
		} else if st, err = im.svc.Import(im.ctx, im.opts.Site, im.format, b.threads, b.posts); err != nil {
			im.written <- err
			err = errWriterStopped
			continue
		}
		im.mu.Lock()
		im.summary.Add(st)
		if im.opts.Progress != nil {
			im.opts.Progress(b.read, im.summary)
		}
		im.mu.Unlock()
	}
	if err == nil {
		im.written <- nil
	}
}

var errWriterStopped = errors.New("the writer stopped")

// countingReader counts the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// parseTime reads the times the formats write: RFC 3339, or "2006-01-02 15:04:05" in UTC (WordPress).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
