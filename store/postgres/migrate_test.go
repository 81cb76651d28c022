package postgres

import (
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/threadline/threadline/internal/pgtest"
)

// shipped returns the migrations this package embeds, as a map that tests can add to or cut.
func shipped(t *testing.T) fstest.MapFS {
	t.Helper()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(sub, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	out := fstest.MapFS{}
	for _, name := range names {
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = &fstest.MapFile{Data: b}
	}
	return out
}

func versions(t *testing.T, db *DB) []int {
	t.Helper()
	rows, err := db.pool.Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestOpenIsIdempotent(t *testing.T) {
	url := pgtest.URL(t)
	want := len(shipped(t))
	for i := range 2 {
		db, err := Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		if got := versions(t, db); len(got) != want {
			t.Errorf("open %d: versions %v, want %d of them", i+1, got, want)
		}
		db.Close()
	}
}

// TestConcurrentOpensMigrateOnce: servers starting at once on a new database all start, and each migration
// runs once: a later migration that counts its runs finds one.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	set := shipped(t)
	set["9001_count_runs.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE IF NOT EXISTS migration_runs (n integer);
		INSERT INTO migration_runs VALUES (1);`)}
	const servers = 8
	var wg sync.WaitGroup
	dbs := make([]*DB, servers)
	errs := make([]error, servers)
	start := make(chan struct{})
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dbs[i], errs[i] = open(context.Background(), url, set, nil)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	var runs int
	if err := dbs[0].pool.QueryRow(context.Background(), "SELECT count(*) FROM migration_runs").Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Fatalf("the last migration ran %d times, want once", runs)
	}
	if got := versions(t, dbs[0]); len(got) != len(set) {
		t.Fatalf("versions %v, want %d of them", got, len(set))
	}
}

// TestOlderSchemaOpensWithNewerMigrations: a database migrated by an older release, with data in it, opens
// with a newer release's migrations, which apply only what is new; and the release after that, whose numbers
// leave gaps (another part of the schema took one), opens it too.
func TestOlderSchemaOpensWithNewerMigrations(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	// The oldest schema today's writes run on: they record their events (0002), with the reader of a change
	// of credentials (0004), notify after the commit (0003 drops the trigger of 0002), and count posts in shards
	// (0005).
	older := fstest.MapFS{}
	for _, name := range []string{"0001_init.sql", "0002_events.sql", "0003_events_notify_after_commit.sql", "0004_events_reader.sql",
		"0005_article_count_shards.sql"} {
		older[name] = shipped(t)[name]
	}
	db, err := open(ctx, url, older, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := mustArticle(t, db)
	mustComment(t, db, a, 0, t0)
	db.Close()

	newer := shipped(t)
	newer["9002_later.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE articles ADD COLUMN later text NOT NULL DEFAULT 'added'`)}
	for _, set := range []fstest.MapFS{shipped(t), newer} {
		db, err := open(ctx, url, set, nil)
		if err != nil {
			t.Fatalf("open with %d migrations: %v", len(set), err)
		}
		if got := versions(t, db); len(got) != len(set) {
			t.Errorf("versions %v, want %d of them", got, len(set))
		}
		if got := article(t, db, a.ID); got.CommentCount != 1 {
			t.Errorf("the older data: %+v", got)
		}
		db.Close()
	}
	db, err = Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var later string
	if err := db.pool.QueryRow(ctx, "SELECT later FROM articles WHERE id = $1", a.ID).Scan(&later); err != nil || later != "added" {
		t.Fatalf("the newer migration's column: %q, %v", later, err)
	}
}

// TestFailedMigrationAppliesNothing: migrations run in one transaction, so a failing one leaves the database
// as it was, and says which file failed.
func TestFailedMigrationAppliesNothing(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	set := shipped(t)
	set["9003_broken.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE broken (x nosuchtype)`)}
	if _, err := open(ctx, url, set, nil); err == nil || !strings.Contains(err.Error(), "9003_broken.sql") {
		t.Fatalf("open with a broken migration: %v", err)
	}
	db, err := open(ctx, url, fstest.MapFS{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("%d tables left by a failed migration", tables)
	}
}
