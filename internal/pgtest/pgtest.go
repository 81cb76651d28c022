// Package pgtest gives tests a PostgreSQL database of their own. The server is the one THREADLINE_TEST_POSTGRES
// names (`make test` starts a throwaway cluster and sets it; see .ci/postgres); without it, tests that need
// PostgreSQL skip, saying how to run them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable that holds the URL of a PostgreSQL server on which the tests may create databases.
const Env = "THREADLINE_TEST_POSTGRES"

// SkipReason is what a skipped test says.
const SkipReason = Env + " is not set: the PostgreSQL tests were skipped (`make test` runs them when PostgreSQL is installed; `make deps` installs it)"

// Available reports whether PostgreSQL tests can run.
func Available() bool { return os.Getenv(Env) != "" }

// URL creates an empty database for the test and returns its URL; the database is dropped when the test ends.
// It skips the test when no server is configured, and fails it when the server is configured but unreachable.
func URL(t testing.TB) string {
	t.Helper()
	return Copy(t, "")
}

// Copy is URL with the new database a copy of the database template ("" for PostgreSQL's own, empty one), for
// tests that would otherwise each apply the same migrations. No one may be connected to template.
func Copy(t testing.TB, template string) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		t.Skip(SkipReason)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "threadline_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v", u.Redacted(), err)
	}
	defer conn.Close(context.Background())
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		create += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
