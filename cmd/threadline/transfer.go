package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/importer"
	"github.com/threadline/threadline/store"
	"github.com/threadline/threadline/thread"
)

// runImport brings a Disqus, WordPress or Threadline export into a site.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("threadline import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: threadline import --site SLUG --format %s [--dry-run] FILE\n\n", strings.Join(importer.Formats, "|"))
		fs.PrintDefaults()
	}
	dbSetting := dbFlag(fs)
	site := fs.String("site", "", "the slug of the site to import into (a Threadline export creates it if missing)")
	format := fs.String("format", "", "the file's format: "+strings.Join(importer.Formats, ", "))
	dryRun := fs.Bool("dry-run", false, "read and check the whole file, write nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *site == "" || *format == "" {
		fs.Usage()
		return errors.New("import needs --site, --format and one file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, *dbSetting)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	opts := importer.Options{Site: *site, DryRun: *dryRun, Progress: progress(stderr, info.Size())}
	summary, err := importer.Import(ctx, thread.NewService(db), *format, f, opts)
	if summary != nil {
		printSummary(stdout, summary, time.Since(start))
	}
	return err
}

// progress reports an import's progress: a bar on a terminal, a line per batch otherwise.
func progress(stderr io.Writer, size int64) func(int64, *importer.Summary) {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.DefaultBytes(size, "importing")
		return func(read int64, s *importer.Summary) { _ = bar.Set64(read) }
	}
	return func(read int64, s *importer.Summary) {
		fmt.Fprintf(stderr, "read %d of %d bytes: %d comments read, %d imported\n", read, size, s.Read, s.Comments)
	}
}

func printSummary(w io.Writer, s *importer.Summary, took time.Duration) {
	verb := "imported"
	if s.DryRun {
		verb = "would import (dry run: nothing written)"
	}
	fmt.Fprintf(w, "%s %d articles and %d comments in %s\n", verb, s.Threads, s.Comments, took.Round(time.Millisecond))
	fmt.Fprintf(w, "read %d comments; %d imported before, left as they were; %d replies to a missing parent, imported at the top level\n",
		s.Read, s.Existing, s.OrphanReplies)
	if s.Moderation > 0 {
		fmt.Fprintf(w, "%d moderation actions and appeals\n", s.Moderation)
	}
	if s.Skips > 0 {
		fmt.Fprintf(w, "skipped %d items:\n", s.Skips)
		for _, k := range s.Skipped {
			fmt.Fprintf(w, "  %s: %s\n", k.Item, k.Why)
		}
		if s.Skips > len(s.Skipped) {
			fmt.Fprintf(w, "  … and %d more\n", s.Skips-len(s.Skipped))
		}
	}
}

// runExport writes a site's discussions as Threadline's JSON to standard output.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("threadline export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbSetting := dbFlag(fs)
	site := fs.String("site", "", "the slug of the site to export")
	article := fs.String("article", "", "export only the article with this key")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *site == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("export needs --site, and writes to standard output")
	}
	db, err := store.Open(ctx, *dbSetting)
	if err != nil {
		return err
	}
	defer db.Close()
	return archive.Write(ctx, thread.NewService(db), *site, *article, stdout)
}
