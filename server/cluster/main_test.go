package cluster_test

import (
	"os"
	"testing"

	"github.com/threadline/threadline/internal/pgtest"
)

// TestMain runs the package's tests on a PostgreSQL cluster of their own (see pgtest.Private): they wait for
// live events, which another package's open write transaction on a shared cluster would hold back.
func TestMain(m *testing.M) { os.Exit(pgtest.Private(m, true)) }
