// Command threadline is the Threadline comment server.
//
//	threadline serve   [--addr :8080] [--db threadline.db] ...   serve the API, GraphiQL and the sample
//	threadline migrate [--db threadline.db]                       create or upgrade the database, then exit
//	threadline site create|list|update|rotate-secret|add-moderator   manage sites
//	threadline article create --site SLUG --key KEY [--title T] [--url U]   start a thread
//	threadline backup  [--db threadline.db] FILE                  copy the live SQLite file consistently (PostgreSQL: pg_dump)
//	threadline import  --site SLUG --format disqus|wxr|threadline FILE   bring comments in
//	threadline export  --site SLUG [--article KEY] > FILE        write a site's discussions as JSON
//
// --db is a SQLite file or a postgres:// URL (a PostgreSQL database, which any number of servers may share).
// Every flag can also be set by an environment variable: --addr is THREADLINE_ADDR, --db is THREADLINE_DB,
// and so on. Flags win over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// commands maps each subcommand to the function that runs it.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"serve":   runServe,
	"migrate": runMigrate,
	"site":    runSite,
	"article": runArticle,
	"backup":  runBackup,
	"import":  runImport,
	"export":  runExport,
}

func main() {
	ctx, stop := signalContext()
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// The flag package has printed the usage asked for.
	case err != nil:
		fmt.Fprintln(os.Stderr, "threadline:", err)
		os.Exit(2)
	}
}

// stopSignal is why the context of a command ended when a signal ended it: serve drains on SIGTERM only.
type stopSignal struct{ os.Signal }

func (s stopSignal) Error() string { return "received " + s.Signal.String() }

// signalContext returns a context that ends at the first SIGINT or SIGTERM, with that signal as its cause
// (context.Cause).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			cancel(stopSignal{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel(context.Canceled)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

const usage = `Threadline: a self-hosted comment system.

Usage:
  threadline serve   [flags]   serve the GraphQL API, GraphiQL and the sample article
  threadline migrate [flags]   create or upgrade the database, then exit
  threadline site COMMAND      manage sites: create, list, update, rotate-secret, add-moderator
  threadline article create    start a site's thread by hand: --site SLUG --key KEY [--title T] [--url U]
  threadline backup FILE       copy the live SQLite file, consistently, while the server serves (PostgreSQL: pg_dump)
  threadline import FILE       bring comments in: --site SLUG --format disqus|wxr|threadline [--dry-run]
  threadline export            write a site's discussions as JSON: --site SLUG [--article KEY]

Every command that uses the database takes --db (env THREADLINE_DB): a SQLite file (the default,
threadline.db) or a postgres:// URL, which any number of servers may share.

Run "threadline COMMAND --help" for a command's flags.
`
