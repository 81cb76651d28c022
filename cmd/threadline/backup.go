package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/threadline/threadline/store/sqlite"
)

// runBackup copies the live database, consistently, to a new file, while a server may be serving from it.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("threadline backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: threadline backup [--db threadline.db] FILE\n\nCopies the database to FILE (which must not exist) while the server keeps serving.")
		fs.PrintDefaults()
	}
	dbPath := fs.String("db", "threadline.db", "SQLite database file to copy")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup takes one file name")
	}
	db, err := sqlite.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: a consistent copy of %s, made in %s\n", fs.Arg(0), *dbPath, time.Since(start).Round(time.Millisecond))
	return nil
}
