package server_test

import (
	"os"
	"testing"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/internal/teststore"
)

// TestMain runs the API tests, when they run on PostgreSQL, on a cluster of their own (see pgtest.Private):
// they wait for live events, which the other API packages' write transactions on a shared cluster (CREATE
// DATABASE for each of their tests takes seconds) would hold back.
func TestMain(m *testing.M) { os.Exit(pgtest.Private(m, teststore.Engine() == teststore.Postgres)) }
