package benchserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Database is a new, empty database for one measurement.
type Database struct {
	URL  string // what `threadline --db` is given: a file path or a PostgreSQL URL
	Kind string // "SQLite" or "PostgreSQL"
	// drop removes a PostgreSQL database that NewDatabase created; nil for SQLite, whose file goes with its folder.
	drop func() error
}

// The kinds of database.
const (
	SQLite     = "SQLite"
	PostgreSQL = "PostgreSQL"
)

// IsPostgres reports whether a --db value names a PostgreSQL database, as `threadline --db` reads it.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Redacted returns a --db value fit to print: a PostgreSQL URL without its password.
func Redacted(db string) string {
	if u, err := url.Parse(db); err == nil && IsPostgres(db) {
		return u.Redacted()
	}
	return db
}

// NewDatabase makes a new database from spec: "sqlite" is a new file in dir; another path is a new SQLite file
// there, which must not exist yet and is kept after; a PostgreSQL URL names a server (and a database on it to
// connect to, such as postgres), on which a database of its own is created, and dropped by Close.
func NewDatabase(spec, dir string) (*Database, error) {
	switch {
	case spec == "sqlite":
		return &Database{URL: filepath.Join(dir, "bench.db"), Kind: SQLite}, nil
	case IsPostgres(spec):
		return newPostgres(spec)
	case spec == "" || strings.Contains(spec, "://"):
		return nil, fmt.Errorf("database %q: want sqlite, a new SQLite file's path, or a PostgreSQL server's URL (postgres://USER@HOST:PORT/postgres?sslmode=disable)", spec)
	}
	path, err := filepath.Abs(spec)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("database %s: it exists already; the tools seed a new database, so give a path that does not exist", path)
	}
	return &Database{URL: path, Kind: SQLite}, nil
}

// Shared reports whether several servers can serve the database at once. A SQLite file has one server.
func (d *Database) Shared() bool { return d.Kind == PostgreSQL }

// Close drops a PostgreSQL database that NewDatabase created.
func (d *Database) Close() error {
	if d.drop == nil {
		return nil
	}
	err := d.drop()
	d.drop = nil
	return err
}

// Durability says what makes an acknowledged write durable, read from the server where there is one.
func (d *Database) Durability() string {
	if d.Kind == SQLite {
		return "WAL, synchronous=FULL (the store's setting)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.URL)
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	defer conn.Close(context.Background())
	var parts []string
	for _, name := range []string{"synchronous_commit", "fsync", "wal_sync_method"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			v = "?"
		}
		parts = append(parts, name+"="+v)
	}
	return strings.Join(parts, ", ")
}

func newPostgres(admin string) (*Database, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return nil, fmt.Errorf("the PostgreSQL URL: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "threadline_bench_" + hex.EncodeToString(b[:])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return fmt.Errorf("PostgreSQL at %s: %w", u.Redacted(), err)
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &Database{URL: u.String(), Kind: PostgreSQL, drop: func() error {
		if err := exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}}, nil
}
