// Command threadline is the Threadline comment server.
//
//	threadline serve   [--addr :8080] [--db threadline.db] ...   serve the API, GraphiQL and the sample
//	threadline migrate [--db threadline.db]                       create or upgrade the database, then exit
//	threadline site create|list|update|rotate-secret|add-moderator   manage sites
//	threadline article create --site SLUG --key KEY [--title T] [--url U]   start a thread
//	threadline backup  [--db threadline.db] FILE                  copy the live database consistently
//	threadline import  --site SLUG --format disqus|wxr|threadline FILE   bring comments in
//	threadline export  --site SLUG [--article KEY] > FILE        write a site's discussions as JSON
//
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
  threadline backup FILE       copy the live database, consistently, while the server serves
  threadline import FILE       bring comments in: --site SLUG --format disqus|wxr|threadline [--dry-run]
  threadline export            write a site's discussions as JSON: --site SLUG [--article KEY]

Run "threadline COMMAND --help" for a command's flags.
`
