package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/threadline/threadline/store"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("threadline migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbSetting := dbFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, *dbSetting)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: schema up to date\n", db)
	return db.Close()
}
