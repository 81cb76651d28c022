package main

import (
	"flag"

	"github.com/threadline/threadline/store"
)

// dbUsage is the help of every command's --db.
const dbUsage = "the database: SQLite file (created if missing) or postgres:// URL, e.g. postgres://USER:PASSWORD@HOST/DB?sslmode=verify-full"

// dbFlag defines a command's --db (env THREADLINE_DB).
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "threadline.db", dbUsage)
}

// shown is a database setting as messages may show it: without a password.
func shown(setting string) string { return store.Redact(setting) }
