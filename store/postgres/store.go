// Package postgres persists Threadline's domain in PostgreSQL (pgx and its pool), so that any number of
// Threadline servers can share one database. It is data access only: the rules are thread's. Its schema and
// its queries mirror the SQLite store's, with the same values (times in Unix milliseconds), orders and errors.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ConnectTimeout bounds how long a connection waits for the server to answer, unless the URL's connect_timeout
// says otherwise.
const ConnectTimeout = 10 * time.Second

// DB is the PostgreSQL store. It implements thread.Store.
type DB struct {
	pool    *pgxpool.Pool
	queries atomic.Int64
	// notifier wakes every server's follower of the event log after a write committed.
	notifier *eventlog.Notifier
}

var (
	_ thread.Store       = (*DB)(nil)
	_ thread.EventLogger = (*DB)(nil)
)

// LogsEvents reports that every write records what it announces in the event log (see package eventlog), in
// its own transaction: the servers on the database publish from the log.
func (db *DB) LogsEvents() bool { return true }

// records returns the log's records of the events a write announces (thread.Announced), or, when it announces
// none, that its article (0: every article of the site) changed.
func records(events []thread.Event, siteID, articleID int64) []eventlog.Record {
	if len(events) == 0 {
		return []eventlog.Record{eventlog.Changed(siteID, articleID)}
	}
	recs := make([]eventlog.Record, len(events))
	for i, e := range events {
		recs[i] = eventlog.EventRecord(e)
	}
	return recs
}

// kinds returns the kinds of the events a write w announces about a comment whose status goes from from to
// to, for a statement that records them itself: the comment's ID is the statement's to know.
func kinds(w thread.CommentWrite, from, to thread.Status) []string {
	var out []string
	for _, e := range thread.Announced(w, 0, from, &thread.Comment{Status: to}) {
		out = append(out, string(e.Kind))
	}
	return out
}

// siteOf returns the site of an article.
func siteOf(ctx context.Context, q queryer, articleID int64) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT site_id FROM articles WHERE id = $1", articleID).Scan(&id)
	return id, notFound(err, "article")
}

// IsURL reports whether a database setting names a PostgreSQL server rather than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres:// or postgresql://) and brings its schema up to date. When
// the server cannot be reached, the error is one line naming its host and port, never the password.
func Open(ctx context.Context, url string) (*DB, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return open(ctx, url, sub, nil)
}

// open is Open with the migrations in fsys, so that tests can migrate with an older or newer set, and with
// configure (if set) given the pool's configuration before it connects, so that tests can trace queries.
func open(ctx context.Context, dbURL string, fsys fs.FS, configure func(*pgxpool.Config)) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		// pgconn quotes the URL with its password masked.
		return nil, fmt.Errorf("the PostgreSQL URL is not valid: %s", lastLine(err))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // none in the URL (connect_timeout): never wait forever
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	// Acknowledged means committed: whatever the server's default, a commit returns once it is on disk.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "threadline" // in pg_stat_activity
	}
	if !strings.Contains(dbURL, "pool_max_conns=") {
		// pgxpool's default (the number of CPUs, at least 4) leaves concurrent requests queuing for a connection
		// while PostgreSQL waits for the disk: more connections let commits share one flush.
		cfg.MaxConns = int32(max(16, 4*runtime.GOMAXPROCS(0)))
	}
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, connectError(cfg, err)
	}
	db := &DB{pool: pool}
	defer func() {
		if db.notifier == nil {
			pool.Close()
		}
	}()
	// A host name may stand for several addresses, each tried for the timeout.
	pingCtx, cancel := context.WithTimeout(ctx, 2*cfg.ConnConfig.ConnectTimeout)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		return nil, connectError(cfg, err)
	}
	if err := db.migrate(ctx, fsys); err != nil {
		return nil, fmt.Errorf("migrate PostgreSQL database %s at %s: %w", cfg.ConnConfig.Database, hostPort(cfg), err)
	}
	db.notifier = eventlog.NewNotifier(pool)
	return db, nil
}

func hostPort(cfg *pgxpool.Config) string {
	return net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
}

// connectError says in one line why the server at cfg's host and port could not be used. pgx's own message
// names the user and database and may span the attempts at every address of the host; an operator needs the
// host, the port and the cause.
func connectError(cfg *pgxpool.Config, err error) error {
	where := "PostgreSQL at " + hostPort(cfg)
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var errno syscall.Errno
	switch {
	case errors.As(err, &pgErr):
		// The server answered and said no: wrong password, no such database or role, too many connections.
		return fmt.Errorf("%s refused the connection: %s (SQLSTATE %s)", where, pgErr.Message, pgErr.Code)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%s is unreachable: the host name does not resolve (%s)", where, dnsErr.Err)
	case errors.As(err, &errno):
		return fmt.Errorf("%s is unreachable: %s", where, errno.Error())
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("%s is unreachable: no answer within %s", where, cfg.ConnConfig.ConnectTimeout)
	}
	return fmt.Errorf("%s is unreachable: %s", where, lastLine(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// lastLine returns the innermost cause of err on one line.
func lastLine(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Close wakes the followers for the last writes, if that is due, and closes the pool.
func (db *DB) Close() error {
	db.notifier.Close()
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Pool returns the connection pool, for metrics and for the parts of a server that need a connection of their
// own (LISTEN).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// QueryCount returns how many SQL statements the store has run, so that tests can prove that a page costs a
// constant number of them.
func (db *DB) QueryCount() int64 { return db.queries.Load() }

// migrationLock is the key of the advisory lock under which servers migrate, one at a time ("thrdline").
const migrationLock int64 = 0x7468726431696e65

// migrate applies the numbered migrations in fsys that the database has not had, in order, in one
// transaction, holding an advisory lock for it: servers that start at once queue on the lock, and each after
// the first finds every version recorded and applies nothing.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return err
	}
	type migration struct {
		version int
		name    string
	}
	var list []migration
	seen := map[int]string{}
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", name)
		}
		if prev, dup := seen[n]; dup {
			return fmt.Errorf("migrations %s and %s have the same number", prev, name)
		}
		seen[n] = name
		list = append(list, migration{n, name})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })

	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		done := map[int]bool{}
		for _, v := range applied {
			done[int(v)] = true
		}
		for _, m := range list {
			if done[m.version] {
				continue
			}
			script, err := fs.ReadFile(fsys, m.name)
			if err != nil {
				return err
			}
			// Exec without arguments runs the file's statements in the simple protocol, all of them.
			if _, err := tx.Exec(ctx, string(script)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return err
			}
		}
		return nil
	})
}

// queryer is what both the pool and a transaction offer.
type queryer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// counted wraps a queryer to count its statements.
type counted struct {
	q queryer
	n *atomic.Int64
}

func (c counted) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.n.Add(1)
	return c.q.Exec(ctx, sql, args...)
}

func (c counted) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.n.Add(1)
	return c.q.Query(ctx, sql, args...)
}

func (c counted) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.n.Add(1)
	return c.q.QueryRow(ctx, sql, args...)
}

// reader returns the pool for statements outside a transaction, counted.
func (db *DB) reader() queryer { return counted{db.pool, &db.queries} }

// inTx runs fn in a transaction and commits it if fn returns nil. Where SQLite runs one writer at a time,
// PostgreSQL runs them side by side: statements that read what they then change lock their rows (FOR UPDATE),
// and a transaction that loses a deadlock or a serialization race is run again, a few times.
func (db *DB) inTx(ctx context.Context, fn func(tx queryer) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			return fn(counted{tx, &db.queries})
		})
		if attempt < 5 && retryable(err) && ctx.Err() == nil {
			continue
		}
		if err == nil {
			db.notifier.Committed() // most writes log events; a spurious wake-up costs followers one read
		}
		return err
	}
}

// retried runs fn, one statement committed on its own, on the pool, and runs it again if it lost a deadlock.
func (db *DB) retried(ctx context.Context, fn func(q queryer) error) error {
	for attempt := 1; ; attempt++ {
		err := fn(db.reader())
		if attempt < 5 && retryable(err) && ctx.Err() == nil {
			continue
		}
		if err == nil {
			db.notifier.Committed()
		}
		return err
	}
}

// retryable reports whether err is a deadlock or a serialization failure, which running again resolves.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// notFound maps pgx.ErrNoRows to a NOT_FOUND error naming what was missing.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return thread.Errorf(thread.CodeNotFound, "no %s found", what)
	}
	return err
}

// conflict maps a unique violation to a CONFLICT error with msg.
func conflict(err error, msg string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &thread.Error{Code: thread.CodeConflict, Message: msg, Err: err}
	}
	return err
}

// scanner is a row to scan.
type scanner interface{ Scan(...any) error }

// each scans every row and hands it to add.
func each[T any](rows pgx.Rows, scan func(scanner) (*T, error), add func(*T)) error {
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		add(v)
	}
	return rows.Err()
}

// byID runs a "... WHERE id" query, completed with "= ANY($1)", for ids and returns the rows keyed by ID.
func byID[T any](ctx context.Context, db *DB, query string, ids []int64, scan func(scanner) (*T, error), id func(*T) int64) (map[int64]*T, error) {
	out := make(map[int64]*T, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.reader().Query(ctx, query+" = ANY($1)", ids)
	if err != nil {
		return nil, err
	}
	return out, each(rows, scan, func(v *T) { out[id(v)] = v })
}

// ms returns t in Unix milliseconds, the store's time.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msOrNil returns t in Unix milliseconds, or NULL for the zero time.
func msOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

// idOrNil returns NULL for ID 0.
func idOrNil(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// fromMs returns the time of a Unix-millisecond column.
func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// optionalTime returns the time of a nullable Unix-millisecond column: zero for NULL.
func optionalTime(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMs(*v)
}

func orZero(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

// violates maps a violation of the constraint (SQLSTATE code) to a thread.Error with the code and msg.
func violates(err error, sqlState, constraint string, code thread.Code, msg string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == sqlState && pgErr.ConstraintName == constraint {
		return &thread.Error{Code: code, Message: msg, Err: err}
	}
	return err
}

// int64s reads rows of one integer column; nil for none, as the SQLite store returns.
func int64s(rows pgx.Rows) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
