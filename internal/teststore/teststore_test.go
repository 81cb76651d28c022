package teststore

import (
	"bytes"
	"context"
	"testing"

	"github.com/threadline/threadline/thread"
)

// TestOpenGivesAStoreOfItsOwn: each Open is a new, migrated database; Another, Raw and Contents all reach
// the same one.
func TestOpenGivesAStoreOfItsOwn(t *testing.T) {
	ctx := context.Background()
	db, svc := Open(t)
	if db.Engine != Engine() {
		t.Fatalf("engine %q, want %q", db.Engine, Engine())
	}
	if _, _, _, err := svc.CreateSite(ctx, "gazette", thread.SiteSettings{Name: "The Gazette of Teststore"}); err != nil {
		t.Fatal(err)
	}
	if _, err := thread.NewService(db.Another(t)).Site(ctx, "gazette"); err != nil {
		t.Errorf("another store over the same database: %v", err)
	}
	var n int
	if err := db.Raw(t).QueryRow(`SELECT count(*) FROM sites WHERE slug = $1`, "gazette").Scan(&n); err != nil || n != 1 {
		t.Errorf("Raw counts %d sites (%v)", n, err)
	}
	held := false
	for _, b := range db.Contents(t) {
		held = held || bytes.Contains(b, []byte("The Gazette of Teststore"))
	}
	if !held {
		t.Error("Contents does not hold the site's name")
	}

	other, otherSvc := Open(t)
	if _, err := otherSvc.Site(ctx, "gazette"); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Errorf("a second Open sees the first's site: %v", err)
	}
	if (db.SQLite == nil) != (db.Engine == Postgres) || (other.Pools() == nil) != (db.Engine == Postgres) {
		t.Errorf("SQLite %v, Pools %v on %s", db.SQLite, other.Pools(), db.Engine)
	}
}

// BenchmarkOpen is what each API test pays for its database (on PostgreSQL, a copy of the migrated template).
func BenchmarkOpen(b *testing.B) {
	for b.Loop() {
		db, _ := Open(b)
		if err := db.Ping(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
