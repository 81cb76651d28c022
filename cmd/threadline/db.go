package main

import "flag"

// dbUsage is the help of every command's --db.
const dbUsage = "the database: SQLite file (created if missing) or postgres:// URL, e.g. postgres://USER:PASSWORD@HOST/DB?sslmode=verify-full"

// dbFlag defines a command's --db (env THREADLINE_DB).
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "threadline.db", dbUsage)
}
