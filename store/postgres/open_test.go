package postgres

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
)

// closedPort returns a local port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// silentPort returns a local port that accepts connections and never answers, like a server that hangs.
func silentPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestUnreachableServerIsOneLine: an operator who points Threadline at a server that does not answer reads
// one line naming the host and port and the cause, without the password.
func TestUnreachableServerIsOneLine(t *testing.T) {
	port, silent := closedPort(t), silentPort(t)
	for _, tc := range []struct {
		name, url, want string
	}{
		{"closed port", fmt.Sprintf("postgres://threadline:s3cret@127.0.0.1:%d/threadline?sslmode=disable", port),
			fmt.Sprintf("PostgreSQL at 127.0.0.1:%d is unreachable: connection refused", port)},
		{"postgresql scheme", fmt.Sprintf("postgresql://threadline:s3cret@127.0.0.1:%d/threadline", port),
			fmt.Sprintf("PostgreSQL at 127.0.0.1:%d is unreachable: connection refused", port)},
		{"unknown host", "postgres://threadline:s3cret@db.invalid:5432/threadline?connect_timeout=5",
			"PostgreSQL at db.invalid:5432 is unreachable: the host name does not resolve"},
		{"no answer", fmt.Sprintf("postgres://threadline:s3cret@127.0.0.1:%d/threadline?connect_timeout=1", silent),
			fmt.Sprintf("PostgreSQL at 127.0.0.1:%d is unreachable: no answer within 1s", silent)},
		{"bad URL", "postgres://threadline:s3cret@127.0.0.1:notaport/threadline", "is not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			db, err := Open(ctx, tc.url)
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "s3cret") {
				t.Fatalf("error %q; want one line with %q and no password", msg, tc.want)
			}
		})
	}
}

// TestRefusedConnectionSaysWhy: a server that answers but refuses (no such database) is not "unreachable".
func TestRefusedConnectionSaysWhy(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/no_such_database"
	_, err = Open(context.Background(), u.String())
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL at "+u.Host+" refused the connection") ||
		!strings.Contains(err.Error(), "no_such_database") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v", err)
	}
}

// TestCommitsAreSynchronous: acknowledged means committed, even on a database whose default says otherwise:
// every connection of the store runs with synchronous_commit on.
func TestCommitsAreSynchronous(t *testing.T) {
	dbURL := pgtest.URL(t)
	ctx := context.Background()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	first, err := Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.pool.Exec(ctx, "ALTER DATABASE "+strings.TrimPrefix(u.Path, "/")+" SET synchronous_commit = off"); err != nil {
		t.Fatal(err)
	}
	first.Close()
	db, err := Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var setting string
	if err := db.pool.QueryRow(ctx, "SHOW synchronous_commit").Scan(&setting); err != nil || setting != "on" {
		t.Fatalf("synchronous_commit is %q (%v), want on", setting, err)
	}
}

// TestPoolSize: the pool holds enough connections for concurrent commits to share a flush, unless the URL says
// how many (pool_max_conns, pgxpool's own parameter).
func TestPoolSize(t *testing.T) {
	dbURL := pgtest.URL(t)
	for _, tc := range []struct {
		url  string
		want int32
	}{{dbURL, 16}, {dbURL + "&pool_max_conns=3", 3}} {
		db, err := Open(context.Background(), tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := db.pool.Config().MaxConns; got < tc.want || tc.want == 3 && got != 3 {
			t.Errorf("%s: %d connections, want %d", tc.url, got, tc.want)
		}
		db.Close()
	}
}
