// Package store opens the database the setting names (--db, THREADLINE_DB): a postgres:// or postgresql:// URL
// is a PostgreSQL database (store/postgres), anything else the path of a SQLite file (store/sqlite). It is the
// one place that tells them apart, and the one that says how a setting may be shown: never with its password.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/threadline/threadline/store/postgres"
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// DB is an open database: the thread.Store every command uses, and exactly one of SQLite and Postgres, for
// what only that engine has. The SQLite file's backup, its watch for other processes' commits and its pools'
// metrics are methods of SQLite; on PostgreSQL they are absent, not pretended.
type DB struct {
	thread.Store
	SQLite   *sqlite.DB   // nil on PostgreSQL
	Postgres *postgres.DB // nil on SQLite
	shown    string
}

// Open opens the database the setting names, creating a SQLite file if it is missing, and brings its schema up
// to date. A PostgreSQL server that cannot be reached is reported in one line naming its host and port, after
// at most postgres.ConnectTimeout. No error holds the URL's password.
func Open(ctx context.Context, setting string) (*DB, error) {
	if err := Check(setting); err != nil {
		return nil, err
	}
	if IsPostgres(setting) {
		pg, err := postgres.Open(ctx, setting)
		if err != nil {
			return nil, scrub(err, setting)
		}
		return &DB{Store: pg, Postgres: pg, shown: Redact(setting)}, nil
	}
	lite, err := sqlite.Open(ctx, setting)
	if err != nil {
		return nil, err
	}
	return &DB{Store: lite, SQLite: lite, shown: setting}, nil
}

// LogsEvents reports whether every write records its events in the log the servers on the database share
// (PostgreSQL): see thread.EventLogger.
func (db *DB) LogsEvents() bool { return db.Postgres != nil }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.Postgres != nil {
		return db.Postgres.Ping(ctx)
	}
	return db.SQLite.Ping(ctx)
}

// Close closes the database.
func (db *DB) Close() error {
	if db.Postgres != nil {
		return db.Postgres.Close()
	}
	return db.SQLite.Close()
}

// String returns the setting as it may be shown in messages and logs: a URL without its password.
func (db *DB) String() string { return db.shown }

// Engine names the database's engine, for messages: "SQLite" or "PostgreSQL".
func (db *DB) Engine() string {
	if db.Postgres != nil {
		return "PostgreSQL"
	}
	return "SQLite"
}

// IsPostgres reports whether the setting names a PostgreSQL database rather than a SQLite file.
func IsPostgres(setting string) bool { return postgres.IsURL(setting) }

// Check refuses a setting that is neither: empty, a URL of another kind (mysql://, file:), or a postgres URL
// mistyped so that it would otherwise become a file of that name.
func Check(setting string) error {
	if setting == "" {
		return errors.New("no database: --db (or THREADLINE_DB) names a SQLite file or a postgres:// URL")
	}
	if IsPostgres(setting) {
		return nil
	}
	scheme, _, isURL := strings.Cut(setting, ":")
	lower := strings.ToLower(scheme)
	switch {
	case lower == "postgres" || lower == "postgresql":
		return fmt.Errorf("--db %s: a PostgreSQL URL starts with postgres:// or postgresql://", Redact(setting))
	case isURL && strings.Contains(setting, "://"):
		return fmt.Errorf("--db: %s:// is not a database Threadline knows; give a SQLite file or a postgres:// URL", scheme)
	}
	return nil
}

// passwordParams are the URL parameters pgx reads a secret from.
var passwordParams = []string{"password", "sslpassword"}

// Redact returns the setting as it may be shown: a PostgreSQL URL with its password, given in the user
// information or as a parameter, replaced by xxxxx; a URL that does not parse as only its scheme, since its
// password cannot be found in it for sure. A SQLite path is shown as it is.
func Redact(setting string) string {
	if !IsPostgres(setting) {
		if scheme, _, _ := strings.Cut(setting, ":"); strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql") {
			return scheme + ":…" // a mistyped URL: where its password is cannot be told
		}
		return setting
	}
	unparsed := setting[:strings.Index(setting, ":")] + "://(a URL that does not parse)"
	u, err := url.Parse(setting)
	if err != nil {
		return unparsed
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return unparsed
	}
	changed := false
	for _, p := range passwordParams {
		if q.Has(p) {
			q.Set(p, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// passwords returns the secrets a setting holds, as written and unescaped.
func passwords(setting string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
			if esc := url.QueryEscape(s); esc != s {
				out = append(out, esc)
			}
		}
	}
	u, err := url.Parse(setting)
	if err != nil {
		// Unparsed: whatever stands between the first colon of the user information and its @.
		_, rest, _ := strings.Cut(setting, "://")
		authority, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
				add(pw)
			}
		}
		return out
	}
	if pw, ok := u.User.Password(); ok {
		add(pw)
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		for _, p := range passwordParams {
			for _, v := range q[p] {
				add(v)
			}
		}
	}
	return out
}

// scrub makes sure err's message holds none of the setting's passwords: the stores' messages are written not
// to, and this keeps it so whatever a driver's message may quote.
func scrub(err error, setting string) error {
	msg := err.Error()
	clean := msg
	for _, pw := range passwords(setting) {
		clean = strings.ReplaceAll(clean, pw, "xxxxx")
	}
	if clean == msg {
		return err
	}
	return &scrubbed{msg: clean}
}

// scrubbed is an error whose message was cleaned of a password. It does not unwrap: its cause's message is
// the one that held the password.
type scrubbed struct{ msg string }

func (e *scrubbed) Error() string { return e.msg }
