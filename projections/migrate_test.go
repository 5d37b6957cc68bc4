package projections_test

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
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

// 00050 gives the campaigns already projected the claim deadline a decode
// gives their CampaignOpened: announceAt + 7 days.
func TestMigrateFillsTheClaimDeadlineOfExistingCampaigns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t, 4)
	before := fstest.MapFS{}
	entries, err := fs.ReadDir(projections.Migrations(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() < "00050" {
			data, err := fs.ReadFile(projections.Migrations(), e.Name())
			if err != nil {
				t.Fatal(err)
			}
			before[e.Name()] = &fstest.MapFile{Data: data}
		}
	}
	if err := eventstore.ApplyMigrations(ctx, pool, before, projections.MigrationsTable); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO campaigns (event_id, owner_id, title, starts_at, ends_at, announce_at, position)
		VALUES (gen_random_uuid(), 'owner-a', 't', '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', '2026-11-03T09:30:00Z', 1)`); err != nil {
		t.Fatal(err)
	}
	if err := projections.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var got time.Time
	if err := pool.QueryRow(ctx, `SELECT claim_deadline FROM campaigns`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 10, 9, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("claim_deadline = %v, want %v", got, want)
	}
}
