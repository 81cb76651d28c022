package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/threadline/threadline/store"
	"github.com/threadline/threadline/thread"
)

const siteUsage = `Manage sites: the publishers that embed Threadline.

Usage:
  threadline site create --slug SLUG --name NAME [--origin URL]... [--premoderation] [--edit-window D] [--rule NAME]... [--report-threshold N]
                         [--embed-creates-articles=BOOL] [--embed-articles-per-hour N]
  threadline site list
  threadline site update --slug SLUG [--name NAME] [--origin URL]... [--premoderation=BOOL] [--edit-window D] [--rule NAME]... [--report-threshold N]
                         [--embed-creates-articles=BOOL] [--embed-articles-per-hour N]
  threadline site rotate-secret --slug SLUG
  threadline site add-moderator --slug SLUG --name NAME

Every command takes --db (env THREADLINE_DB): a SQLite file or a postgres:// URL. create prints the site's signing secret and a moderator key,
and add-moderator and rotate-secret print theirs: each is shown once. In update, --origin and --rule replace
the whole list.

A page's first embed creates its article (its thread), at most --embed-articles-per-hour of them an hour
(default 100); with --embed-creates-articles=false only "threadline article create" and imports do.
`

// siteCommand is one site subcommand: which flags it takes beyond --db and --slug, and its work on an open
// database.
type siteCommand struct {
	settings bool // the settings flags: --name, --origin, --premoderation, --edit-window, --rule, --report-threshold, --embed-…
	nameOnly bool // just --name
	run      func(ctx context.Context, svc *thread.Service, f *siteFlags, stdout io.Writer) error
}

var siteCommands = map[string]siteCommand{
	"create":        {settings: true, run: siteCreate},
	"list":          {run: siteList},
	"update":        {settings: true, run: siteUpdate},
	"rotate-secret": {run: siteRotateSecret},
	"add-moderator": {nameOnly: true, run: siteAddModerator},
}

// runSite parses a site subcommand's flags (environment first, then flags), opens the database and runs it.
func runSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, siteUsage)
		return nil
	}
	cmd, ok := siteCommands[args[0]]
	if !ok {
		fmt.Fprint(stderr, siteUsage)
		return fmt.Errorf("unknown site command %q", args[0])
	}
	f := newSiteFlags(args[0], stderr, cmd)
	if err := parseFlags(f.fs, args[1:]); err != nil {
		return err
	}
	if *f.slug == "" && args[0] != "list" {
		return fmt.Errorf("--slug is required")
	}
	db, err := store.Open(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := cmd.run(ctx, thread.NewService(db), f, stdout); err != nil {
		return explain(err)
	}
	return nil
}

// listFlag is a flag that may be given many times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// siteFlags are the flags of the site commands.
type siteFlags struct {
	fs            *flag.FlagSet
	db, slug      *string
	name          *string
	origins       listFlag
	premoderation *bool
	editWindow    *time.Duration
	rules         listFlag
	reports       *int
	embedCreates  *bool
	embedPerHour  *int
}

func newSiteFlags(command string, stderr io.Writer, cmd siteCommand) *siteFlags {
	f := &siteFlags{fs: flag.NewFlagSet("threadline site "+command, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.db = dbFlag(f.fs)
	f.slug = f.fs.String("slug", "", "the site's slug: lowercase letters, digits and dashes")
	switch {
	case cmd.nameOnly:
		f.name = f.fs.String("name", "", "whom the key is for, e.g. \"Alex\"")
	case cmd.settings:
		f.name = f.fs.String("name", "", "the site's display name")
		f.fs.Var(&f.origins, "origin", "an origin whose pages may embed the site's threads (repeat for more; * for any)")
		f.premoderation = f.fs.Bool("premoderation", false, "hold new comments until a moderator approves them")
		f.editWindow = f.fs.Duration("edit-window", 0, "how long authors may edit a comment, e.g. 15m; 0 for always")
		f.fs.Var(&f.rules, "rule", "a rule moderators cite, e.g. \"Harassment\" (repeat for more)")
		f.reports = f.fs.Int("report-threshold", thread.DefaultReportThreshold, "how many readers' reports hold a comment for review")
		f.embedCreates = f.fs.Bool("embed-creates-articles", true, "a page's first embed creates its article; false: only \"threadline article create\" and imports do")
		f.embedPerHour = f.fs.Int("embed-articles-per-hour", thread.DefaultEmbedArticlesPerHour, "the most articles first embeds create in any hour")
	}
	return f
}

// set reports whether the flag was given.
func (f *siteFlags) set(name string) bool {
	given := false
	f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return given
}

// errPerHour says why --embed-articles-per-hour cannot be 0: that is not how creation is turned off.
var errPerHour = fmt.Errorf("--embed-articles-per-hour is 1 to %d; --embed-creates-articles=false turns creation by embeds off", thread.MaxEmbedArticlesPerHour)

func siteCreate(ctx context.Context, svc *thread.Service, f *siteFlags, stdout io.Writer) error {
	if *f.embedPerHour < 1 {
		return errPerHour
	}
	set := thread.SiteSettings{Name: *f.name, Origins: f.origins, Premoderation: *f.premoderation, EditWindow: *f.editWindow,
		ReportThreshold: *f.reports, NoEmbedArticles: !*f.embedCreates, EmbedArticlesPerHour: *f.embedPerHour}
	if len(f.rules) > 0 {
		set.Rules = f.rules
	}
	site, secret, key, err := svc.CreateSite(ctx, *f.slug, set)
	if err != nil {
		return err
	}
	printSite(stdout, site)
	fmt.Fprintf(stdout, "signing secret:  %s\nmoderator key:   %s\n\nKeep both: they are shown this once. The secret is the key your site signs single-sign-on tokens\nwith; the moderator key is a moderator's credential for the site.\n", secret, key)
	return nil
}

func siteList(ctx context.Context, svc *thread.Service, _ *siteFlags, stdout io.Writer) error {
	sites, err := svc.ListSites(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SLUG\tNAME\tORIGINS\tPREMODERATION\tEDIT WINDOW\tRULES")
	for _, s := range sites {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%d\n", s.Slug, s.Name, strings.Join(s.FrameAncestors, " "), s.Premoderation, window(s.EditWindow), len(s.Rules))
	}
	return w.Flush()
}

func siteUpdate(ctx context.Context, svc *thread.Service, f *siteFlags, stdout io.Writer) error {
	if *f.embedPerHour < 1 {
		return errPerHour
	}
	site, err := svc.UpdateSite(ctx, *f.slug, func(set *thread.SiteSettings) {
		if f.set("name") {
			set.Name = *f.name
		}
		if f.set("origin") {
			set.Origins = f.origins
		}
		if f.set("premoderation") {
			set.Premoderation = *f.premoderation
		}
		if f.set("edit-window") {
			set.EditWindow = *f.editWindow
		}
		if f.set("rule") {
			set.Rules = f.rules
		}
		if f.set("report-threshold") {
			set.ReportThreshold = *f.reports
		}
		if f.set("embed-creates-articles") {
			set.NoEmbedArticles = !*f.embedCreates
		}
		if f.set("embed-articles-per-hour") {
			set.EmbedArticlesPerHour = *f.embedPerHour
		}
	})
	if err != nil {
		return err
	}
	printSite(stdout, site)
	return nil
}

func siteRotateSecret(ctx context.Context, svc *thread.Service, f *siteFlags, stdout io.Writer) error {
	secret, err := svc.RotateSecret(ctx, *f.slug)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signing secret:  %s\n\nShown this once. Tokens signed with the old secret no longer work.\n", secret)
	return nil
}

func siteAddModerator(ctx context.Context, svc *thread.Service, f *siteFlags, stdout io.Writer) error {
	key, err := svc.AddModeratorKey(ctx, *f.slug, *f.name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "moderator key:   %s\n\nShown this once: give it to %s.\n", key, strings.TrimSpace(*f.name))
	return nil
}

func printSite(w io.Writer, s *thread.Site) {
	origins := strings.Join(s.FrameAncestors, " ")
	if origins == "" {
		origins = "(none: no page may embed its threads)"
	}
	embeds := fmt.Sprintf("first embeds create them, at most %d an hour", s.EmbedArticlesPerHour)
	if s.NoEmbedArticles {
		embeds = "only threadline article create and imports create them"
	}
	fmt.Fprintf(w, "site:            %s\nname:            %s\norigins:         %s\npremoderation:   %v\nedit window:     %s\nrules:           %s\nreport threshold: %d\narticles:        %s\n",
		s.Slug, s.Name, origins, s.Premoderation, window(s.EditWindow), strings.Join(s.Rules, "; "), s.ReportThreshold, embeds)
}

func window(d time.Duration) string {
	if d == 0 {
		return "always"
	}
	return d.String()
}

// explain turns a domain error into the sentence written for its client.
func explain(err error) error {
	if thread.ErrorCode(err) == thread.CodeInternal {
		return err
	}
	return fmt.Errorf("%s", thread.ErrorMessage(err))
}
