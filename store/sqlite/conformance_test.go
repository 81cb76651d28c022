package sqlite

import (
	"context"
	"testing"

	"github.com/threadline/threadline/store/storetest"
)

// conformant gives the conformance suite its hook into the database beneath the store.
type conformant struct{ *DB }

// Exec runs a statement on the write connection, as any other client of the file could.
func (c conformant) Exec(ctx context.Context, query string) error {
	_, err := c.write.ExecContext(ctx, query)
	return err
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return conformant{mustOpen(t)} })
}
