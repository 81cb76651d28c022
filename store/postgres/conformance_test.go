package postgres

import (
	"context"
	"testing"

	"github.com/threadline/threadline/store/storetest"
)

// conformant is the store with the hook the conformance suite uses to reach beneath it.
type conformant struct{ *DB }

// Exec runs a statement on the database, bypassing the store.
func (c conformant) Exec(ctx context.Context, query string) error {
	_, err := c.pool.Exec(ctx, query)
	return err
}

// TestConformance holds the PostgreSQL store to the suite every store must pass.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return conformant{mustOpen(t)} })
}
