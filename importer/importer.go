// Package importer brings comments into Threadline from elsewhere: Disqus's XML export, WordPress's WXR, and
// Threadline's own JSON export. Each format is read as a stream, one thread or comment at a time, and written
// in batched transactions, so memory stays flat whatever the file's size; every item is checked before
// anything of it is written, and what was imported before is skipped, so importing a file twice changes
// nothing.
package importer

import (
	"context"
	"fmt"
	"io"
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
		summary: &Summary{DryRun: opts.DryRun}}
	if err := read(counted, im); err != nil {
		return im.summary, err
	}
	if err := im.flush(); err != nil {
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

// importer batches what the format reader reads and writes it.
type importer struct {
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
	im.summary.Read++
	if !im.seen[p.ThreadID] {
		im.skip("comment "+p.SourceID, "its thread is not in the file, or came after it")
		return nil
	}
	if err := thread.CheckImportPost(&p); err != nil {
		im.skip("comment "+p.SourceID, thread.ErrorMessage(err))
		return nil
	}
	im.posts = append(im.posts, p)
	if len(im.posts) >= im.opts.BatchSize {
		return im.flush()
	}
	return nil
}

func (im *importer) skip(item, why string) {
	im.summary.Skips++
	if len(im.summary.Skipped) < MaxSkipsListed {
		im.summary.Skipped = append(im.summary.Skipped, Skip{Item: item, Why: why})
	}
}

// flush writes the batch read so far.
func (im *importer) flush() error {
	if len(im.threads) == 0 && len(im.posts) == 0 {
		return nil
	}
	if im.opts.DryRun {
		im.summary.Threads += len(im.threads)
		im.summary.Comments += len(im.posts)
	} else {
		st, err := im.svc.Import(im.ctx, im.opts.Site, im.format, im.threads, im.posts)
		if err != nil {
			return err
		}
		im.summary.Add(st)
	}
	im.threads, im.posts = im.threads[:0], im.posts[:0]
	if im.opts.Progress != nil {
		im.opts.Progress(im.in.n, im.summary)
	}
	return nil
}

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
