package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/threadline/threadline/store"
)

// errBackupPostgres is backup's answer on PostgreSQL, whose own tools copy a live database better than
// Threadline could.
var errBackupPostgres = errors.New("backup copies a SQLite file; for PostgreSQL use pg_dump " +
	"(pg_dump --format=custom --file=threadline.dump \"$THREADLINE_DB\", restored with pg_restore)")

// runBackup copies the live database, consistently, to a new file, while a server may be serving from it.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("threadline backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: threadline backup [--db threadline.db] FILE\n\nCopies the SQLite database to FILE (which must not exist) while the server keeps serving.\nFor a PostgreSQL database, use pg_dump.")
		fs.PrintDefaults()
	}
	dbSetting := fs.String("db", "threadline.db", "SQLite file to copy (a postgres:// URL is refused: use pg_dump)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if store.IsPostgres(*dbSetting) {
		return errBackupPostgres
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup takes one file name")
	}
	db, err := store.Open(ctx, *dbSetting)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.SQLite.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: a consistent copy of %s, made in %s\n", fs.Arg(0), db, time.Since(start).Round(time.Millisecond))
	return nil
}
