package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGraphQLOverHTTPAudit runs graphql-http's audit suite (the reference implementation's conformance checks
// for the GraphQL-over-HTTP specification) against the real server. Every MUST must pass.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	dir := filepath.Join("..", "tools", "graphql-http-audit")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-http")); err != nil {
		t.Fatalf("the audit's npm packages are missing: run `make test` (or `npm ci --prefix %s`)", dir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to run the GraphQL-over-HTTP audit: ", err)
	}
	s := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, filepath.Join(dir, "audit.mjs"), s.URL+"/graphql").CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(line, "ok ") {
			t.Log(line)
		}
	}
	if err != nil {
		t.Fatalf("audit failed: %v", err)
	}
}
