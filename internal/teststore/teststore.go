// Package teststore opens the store that the API tests (server, graph, importer, seed) run on: SQLite in the
// test's temporary directory by default, or a new PostgreSQL database when THREADLINE_TEST_STORE=postgres
// (with THREADLINE_TEST_POSTGRES naming the server, as internal/pgtest reads it). `make test` runs the API
// suites once on each. Tests that are about one engine (SQLite's file, WAL, pools, the data_version watcher)
// say so with Only.
package teststore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's "pgx" driver, for Raw on PostgreSQL
	_ "modernc.org/sqlite"             // database/sql's "sqlite" driver, for Raw on SQLite

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/server/cluster"
	"github.com/threadline/threadline/store/postgres"
	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// Env names the variable that picks the engine: "postgres", or "sqlite" (the default when it is empty).
const Env = "THREADLINE_TEST_STORE"

// Engines.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Engine returns the engine the tests run on: THREADLINE_TEST_STORE, or SQLite when it is empty.
func Engine() string {
	if e := os.Getenv(Env); e != "" {
		return e
	}
	return SQLite
}

// Store is what the harnesses need of either store: the store itself, and what the server's options take.
type Store interface {
	thread.Store
	Ping(context.Context) error
	// QueryCount is how many statements the store has sent, for the tests of the cost of a page.
	QueryCount() int64
	Close() error
}

// DB is a store of the test's own, on the engine Engine names.
type DB struct {
	Store
	Engine string
	// SQLite is the SQLite store; nil on PostgreSQL.
	SQLite *sqlite.DB
	// where is the SQLite file's path or the PostgreSQL database's URL.
	where string
	// marked hears of Settle's marks, once Live runs a follower of the event log, whose log is logs.
	marked chan int64
	marks  int64 // Settle's last mark
	logs   *logBuffer
}

// logBuffer keeps a log for a failing test to show.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Open opens a new, migrated store, closed when the test ends, and returns it with a thread service over it.
// On PostgreSQL it fails the test when THREADLINE_TEST_POSTGRES is not set: asking for PostgreSQL and
// silently getting nothing would pass every test.
func Open(tb testing.TB) (*DB, *thread.Service) {
	tb.Helper()
	var db *DB
	switch e := Engine(); e {
	case Postgres:
		if !pgtest.Available() {
			tb.Fatalf("%s=%s needs %s: the URL of a PostgreSQL server the tests may create databases on", Env, Postgres, pgtest.Env)
		}
		db = &DB{Engine: Postgres, where: pgtest.Copy(tb, migrated(tb))}
	case SQLite:
		db = &DB{Engine: SQLite, where: filepath.Join(tb.TempDir(), "threadline.db")}
	default:
		tb.Fatalf("%s=%q: want %q or %q", Env, e, SQLite, Postgres)
	}
	db.Store = db.open(tb)
	return db, thread.NewService(db.Store)
}

// Another opens a second store over the same database, as another server would, closed when the test ends.
func (db *DB) Another(tb testing.TB) Store {
	tb.Helper()
	return db.open(tb)
}

func (db *DB) open(tb testing.TB) Store {
	tb.Helper()
	ctx := context.Background()
	var (
		s   Store
		err error
	)
	if db.Engine == Postgres {
		s, err = postgres.Open(ctx, db.where)
	} else {
		var lite *sqlite.DB
		lite, err = sqlite.Open(ctx, db.where)
		if err == nil && db.SQLite == nil {
			db.SQLite = lite
		}
		s = lite
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Live is how a server on the test's store hears of events, for its options.
type Live struct {
	// Bus is the server's live bus on PostgreSQL: fed by its follower of the durable event log, as in
	// production (server/cluster). Nil on SQLite, where the server's in-memory bus hears of events from the
	// service itself.
	Bus *live.Memory
	// Health and Ready are what /healthz and /readyz ask.
	Health, Ready func(context.Context) error
}

// Live wires svc's server to the store as `threadline serve` does, with the bus's buffer per subscriber and
// history (0 for the defaults); on PostgreSQL its follower runs until the test ends.
func (db *DB) Live(tb testing.TB, svc *thread.Service, buffer, history int) Live {
	tb.Helper()
	if db.Engine != Postgres {
		return Live{Health: db.Ping}
	}
	pg, ok := db.Store.(*postgres.DB)
	if !ok {
		tb.Fatalf("the store on %s is a %T", Postgres, db.Store)
	}
	db.logs = &logBuffer{}
	node, err := cluster.New(context.Background(), pg, svc, cluster.Options{
		Log: slog.New(slog.NewTextHandler(db.logs, nil)), SubscriberBuffer: buffer, History: history})
	if err != nil {
		tb.Fatal(err)
	}
	db.marked = make(chan int64, 1024)
	svc.OnChange(func(articleID int64) {
		if articleID <= 0 {
			select {
			case db.marked <- articleID:
			default: // full of what came before a Settle, which drains it
			}
		}
	})
	node.Start()
	tb.Cleanup(node.Stop) // before the store closes: cleanups run last first
	// The follower starts at the log's head when New read it; what was written before it had its first read
	// (the seed, a test's setup) would otherwise empty the cache at an unknown moment.
	db.Settle(tb)
	return Live{Bus: node.Bus, Health: node.Health, Ready: node.Ready}
}

// Pools returns SQLite's connection pools for the server's /metrics; nil on PostgreSQL.
func (db *DB) Pools() map[string]*sql.DB {
	if db.SQLite == nil {
		return nil
	}
	return db.SQLite.Pools()
}

// Settle waits until this server's follower of the event log has read every write committed so far (on
// PostgreSQL): it loads their comments (counted in QueryCount), publishes their events and empties this
// server's cached answers of their articles once more, after the write has returned. Tests that count
// statements, or expect a cached answer, after writes call it first. On SQLite nothing happens after a write
// returns.
func (db *DB) Settle(tb testing.TB) {
	tb.Helper()
	if db.marked == nil {
		return
	}
	// A mark in the log, about an article that cannot exist (each its own, below zero): the follower reads the
	// log in order, so once it tells of the mark it has told of everything committed before. It tells of a
	// batch of rows with a change to every article (0) as of that alone: then the mark may or may not have
	// been in it, and another is sent. (Each mark is a change to the cache: a response computed meanwhile is
	// not kept, so no mark may still be on its way when Settle returns.)
	pg := db.Store.(*postgres.DB)
	deadline := time.After(10 * time.Second)
	for {
		for drained := false; !drained; {
			select {
			case <-db.marked:
			default:
				drained = true
			}
		}
		db.marks++
		mark := -db.marks
		ctx := context.Background()
		if err := eventlog.Append(ctx, pg.Pool(), eventlog.Changed(0, mark)); err != nil {
			tb.Fatal(err)
		}
		// Committed: wake the follower, as the store's Notifier does after its writes.
		if _, err := pg.Pool().Exec(ctx, "SELECT pg_notify($1, '')", eventlog.Channel); err != nil {
			tb.Fatal(err)
		}
		for waiting := true; waiting; {
			select {
			case id := <-db.marked:
				switch id {
				case mark:
					return
				case 0:
					waiting = false // send another
				}
			case <-deadline:
				tb.Fatalf("the event log's follower did not read a write in 10 s; its log:\n%s", db.logs)
			}
		}
	}
}

// Only skips the test unless it runs on engine, saying why the test is about that engine.
func Only(tb testing.TB, engine, why string) {
	tb.Helper()
	if Engine() != engine {
		tb.Skipf("on %s only: %s", engine, why)
	}
}

// Raw opens a database/sql connection to the same database, behind the store's back, closed when the test
// ends: for tests that read what is stored, or change it as another process would. Write its statements in
// the SQL both engines speak, with $1, $2... for arguments.
func (db *DB) Raw(tb testing.TB) *sql.DB {
	tb.Helper()
	driver, dsn := "sqlite", "file:"+db.where
	if db.Engine == Postgres {
		driver, dsn = "pgx", db.where
	}
	conn, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// Contents returns everything the database holds at rest, by name, for tests that look for what must never
// be stored: on SQLite the bytes of its files (the database, its WAL and shared memory), on PostgreSQL the text
// of every row of every table.
func (db *DB) Contents(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	if db.Engine == SQLite {
		files, _ := filepath.Glob(db.where + "*")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out[filepath.Base(f)] = b
		}
		return out
	}
	raw := db.Raw(tb)
	rows, err := raw.Query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	slices.Sort(tables)
	for _, t := range tables {
		var text sql.NullString
		q := fmt.Sprintf(`SELECT string_agg(t::text, E'\n') FROM %s AS t`, pgx.Identifier{t}.Sanitize())
		if err := raw.QueryRow(q).Scan(&text); err != nil {
			tb.Fatal(err)
		}
		out["table "+t] = []byte(text.String)
	}
	return out
}

// template is the migrated PostgreSQL database that the tests' databases copy: copying it costs half of what
// creating an empty one and migrating it does. Its name holds a hash of the migrations, so that a changed
// migration gets a new one; the store's Open still migrates each copy, so a template left half made by a
// killed test is only slower.
var template struct {
	once sync.Once
	name string
}

// migrated returns the name of the template, made once per server and shared by the test processes, or ""
// (copy PostgreSQL's empty template) when the migrations cannot be read from the source tree.
func migrated(tb testing.TB) string {
	tb.Helper()
	template.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir := filepath.Join(filepath.Dir(file), "..", "..", "store", "postgres", "migrations")
		files, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
		if len(files) == 0 {
			return
		}
		h := sha256.New()
		for _, f := range files { // Glob sorts them
			b, err := os.ReadFile(f)
			if err != nil {
				return
			}
			fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
			h.Write(b)
		}
		name := fmt.Sprintf("threadline_template_%x", h.Sum(nil)[:6])
		if err := makeTemplate(name); err != nil {
			tb.Logf("no template database (each test migrates its own): %v", err)
			return
		}
		template.name = name
	})
	return template.name
}

// makeTemplate creates and migrates the database name unless it exists, under an advisory lock so that the
// test processes of several packages make it once and no one copies it while it is made.
func makeTemplate(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := os.Getenv(pgtest.Env)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, name); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext($1))`, name)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		return err
	}
	return db.Close()
}
