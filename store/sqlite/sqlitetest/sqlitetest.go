// Package sqlitetest gives tests of other packages a real, migrated SQLite database of their own.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// Open opens a new database in tb's temporary directory, closed when the test ends, and returns it with a
// thread service over it.
func Open(tb testing.TB) (*sqlite.DB, *thread.Service) {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "threadline.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, thread.NewService(db)
}
