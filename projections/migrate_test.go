package projections_test

import (
	"context"
	"testing"
)

// projection_claim (00002) served a per-message claim the batched
// projector no longer makes; 00004 drops it.
func TestMigrateLeavesNoProjectionClaimFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var found bool
	if err := e.pool.QueryRow(context.Background(),
		`SELECT to_regprocedure('projection_claim(text, text, bigint)') IS NOT NULL`).Scan(&found); err != nil {
		t.Fatal(err)
	}
	if found {
		t.Fatal("projection_claim still exists after Migrate")
	}
}
