package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/threadline/threadline/store/sqlite"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("threadline migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "threadline.db", "SQLite database file; created if missing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: schema up to date\n", *dbPath)
	return db.Close()
}
