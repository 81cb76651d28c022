package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/threadline/threadline/store"
	"github.com/threadline/threadline/thread"
)

const articleUsage = `Manage a site's articles: the pages that have a thread.

Usage:
  threadline article create --site SLUG --key KEY [--title TITLE] [--url URL]

A page's first embed creates its article, unless the site was set with --embed-creates-articles=false; then
the owner creates each article here (or by an import) before its page can show a thread. KEY is the page's
data-article; URL, if given, must be an http or https URL.
`

// runArticle runs an article subcommand; create is the only one.
func runArticle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, articleUsage)
		return nil
	}
	if args[0] != "create" {
		fmt.Fprint(stderr, articleUsage)
		return fmt.Errorf("unknown article command %q", args[0])
	}
	fs := flag.NewFlagSet("threadline article create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbSetting := dbFlag(fs)
	site := fs.String("site", "", "the slug of the article's site")
	key := fs.String("key", "", "the article's key: the data-article of its page")
	title := fs.String("title", "", "the article's title (default: the key)")
	pageURL := fs.String("url", "", "the page's canonical URL")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *site == "" || *key == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("article create needs --site and --key")
	}
	db, err := store.Open(ctx, *dbSetting)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := thread.NewService(db).CreateArticle(ctx, *site, *key, *title, *pageURL)
	if err != nil {
		return explain(err)
	}
	fmt.Fprintf(stdout, "article:  %s\ntitle:    %s\nurl:      %s\n", a.Key, a.Title, a.URL)
	return nil
}
