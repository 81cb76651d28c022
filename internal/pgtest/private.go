package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Private runs the package's tests (m) on a PostgreSQL cluster of their own, started with .ci/postgres in a
// temporary folder on a free port and stopped after, when when is true, THREADLINE_TEST_POSTGRES is set and
// PostgreSQL is installed; otherwise on the server THREADLINE_TEST_POSTGRES names, or none. Call it from
// TestMain as os.Exit(pgtest.Private(m, true)).
//
// Why: readers of the event log see only what committed below the cluster's oldest open write transaction, and
// transaction IDs span the cluster's databases. On a cluster shared with other packages' tests, running at the
// same time, any of their write transactions (an import's batch, a migration) holds back this package's live
// events for as long as it lasts: a test that waits for an event would then fail, or pass, with the machine's
// load. A cluster of its own costs a few seconds to start.
func Private(m *testing.M, when bool) int {
	if !when || !Available() {
		return m.Run()
	}
	stop, err := startPrivate()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: no private PostgreSQL cluster (%v): the tests share %s\n", err, Env)
		return m.Run()
	}
	defer stop()
	return m.Run()
}

// startPrivate starts the cluster, points THREADLINE_TEST_POSTGRES at it, and returns what stops it.
func startPrivate() (stop func(), err error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", ".ci", "postgres")
	if _, err := os.Stat(script); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "threadline-pgtest-")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(script, "start", dir, fmt.Sprint(port)).Output()
	if err != nil {
		os.RemoveAll(dir)
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, err
	}
	// The script prints: export THREADLINE_TEST_POSTGRES='postgres://...'
	_, url, ok := strings.Cut(strings.TrimSpace(string(out)), "=")
	if !ok {
		exec.Command(script, "stop", dir).Run()
		return nil, fmt.Errorf("unexpected output of %s: %q", script, out)
	}
	previous := os.Getenv(Env)
	os.Setenv(Env, strings.Trim(url, "'"))
	return func() {
		os.Setenv(Env, previous)
		exec.Command(script, "stop", dir).Run()
		os.RemoveAll(dir)
	}, nil
}

// freePort returns a TCP port that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
