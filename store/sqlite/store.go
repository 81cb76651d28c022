// Package sqlite persists Threadline's domain in SQLite (modernc.org/sqlite, pure Go) in WAL mode: one writer
// connection, because SQLite takes one writer at a time anyway and queuing in Go is cheaper than busy-waiting in
// SQLite, and a pool of read-only connections that never wait for it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/threadline/threadline/thread"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store. It implements thread.Store.
type DB struct {
	path    string
	write   *sql.DB
	read    *sql.DB
	stmts   sync.Map // query text → *sql.Stmt on read
	queries atomic.Int64
}

var _ thread.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	// Every connection gets the same pragmas: WAL for concurrent readers, foreign keys enforced, a busy timeout
	// for the rare wait on a checkpoint, and synchronous=FULL so that a comment is acknowledged only once it
	// survives a power cut.
	pragmas := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(FULL)"} {
		pragmas.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + pragmas.Encode()
	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	db := &DB{path: path, write: write}
	if err := db.migrate(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	db.read = read
	return db, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	db.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return errors.Join(db.read.Close(), db.write.Close())
}

// QueryCount returns how many SQL statements the store has run, so that tests can prove that a page costs a
// constant number of them.
func (db *DB) QueryCount() int64 { return db.queries.Load() }

// migrate applies the embedded migrations newer than the database's user_version, all in one transaction.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", base)
		}
		if n <= version {
			continue
		}
		script, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		// PRAGMA takes no parameters; n is an integer from a file name we ship.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// queryer is what a write transaction offers the functions that run in it.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// counted wraps a transaction to count its statements.
type counted struct {
	q queryer
	n *atomic.Int64
}

func (c counted) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	c.n.Add(1)
	return c.q.QueryRowContext(ctx, query, args...)
}

func (c counted) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c.n.Add(1)
	return c.q.ExecContext(ctx, query, args...)
}

// reader returns the read pool, through prepared statements: every read query has a fixed text (lists of IDs
// travel as one JSON array), so each is parsed and planned once per connection, not once per request.
func (db *DB) reader() preparedReads { return preparedReads{db} }

// preparedReads runs queries on the read pool through a cache of prepared statements.
type preparedReads struct{ db *DB }

func (p preparedReads) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := p.db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (p preparedReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.db.queries.Add(1)
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p preparedReads) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	p.db.queries.Add(1)
	st, err := p.stmt(ctx, query)
	if err != nil {
		// sql.Row carries no error of its own making; the pool reports the same error when asked.
		return p.db.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// inTx runs fn in a write transaction and commits it if fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx queryer) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(counted{tx, &db.queries}); err != nil {
		return err
	}
	return tx.Commit()
}

// notFound maps sql.ErrNoRows to a NOT_FOUND error naming what was missing.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return thread.Errorf(thread.CodeNotFound, "no %s found", what)
	}
	return err
}

// conflict maps a UNIQUE or PRIMARY KEY violation to a CONFLICT error with msg.
func conflict(err error, msg string) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return &thread.Error{Code: thread.CodeConflict, Message: msg, Err: err}
	}
	return err
}

// idList returns the IDs as a JSON array, for `IN (SELECT value FROM json_each(?))`: one statement text for
// any number of IDs.
func idList(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// inIDs is the condition that matches a column against an idList argument.
const inIDs = " IN (SELECT value FROM json_each(?))"

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.read.PingContext(ctx)
}

// Backup writes a consistent copy of the database to path, which must not exist, while the database goes on
// serving: VACUUM INTO reads one snapshot of the write-ahead log, so writes committed during the copy are
// simply not in it, and nothing waits for it. A missing folder is made (0700), and the copy is readable by its
// owner only (0600): it holds the sites' signing secrets and the hashes of every token.
func (db *DB) Backup(ctx context.Context, path string) (err error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("make the backup's folder: %w", err)
		}
	}
	// Made empty first, exclusively: VACUUM INTO fills an empty file, and no file that exists is overwritten.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: a backup never overwrites a file", path)
	}
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(path) // no half copy, nor an empty file, where a backup is expected
		}
	}()
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// VACUUM INTO writes, which the read pool's query_only forbids; it is lifted on this connection only for
	// the copy, which changes nothing in the database itself.
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), "PRAGMA query_only = 1")
	_, err = conn.ExecContext(ctx, "VACUUM INTO ?", path)
	return err
}

// Pools returns the database's connection pools by name ("read", "write"), for metrics.
func (db *DB) Pools() map[string]*sql.DB {
	return map[string]*sql.DB{"read": db.read, "write": db.write}
}
