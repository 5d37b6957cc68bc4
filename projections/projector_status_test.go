package projections_test

import (
	"context"
	"testing"

	"github.com/shopevents/participation/projections"
)

// The checkpoint that status reads moves only for batches that committed:
// a batch whose transaction failed leaves it, so status never says caught
// up over events a retry has yet to apply.
func TestCheckpointMovesOnlyForCommittedBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedCampaign(t, 5, seedStart, 0)
	events := e.allEvents(t)
	p, err := projections.NewProjector(projections.ParticipantsProjection, e.pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	position := func() int64 {
		t.Helper()
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		status, err := projections.Status(context.Background(), e.pool)
		if err != nil {
			t.Fatal(err)
		}
		return status[0].Position // Names order: participants first
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.ApplyBatch(canceled, events); err == nil {
		t.Fatal("a batch on a canceled context applied")
	}
	if got := position(); got != 0 {
		t.Fatalf("after a failed batch the checkpoint is at %d, want 0", got)
	}
	if _, err := p.ApplyBatch(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if got, want := position(), events[len(events)-1].Position; got != want {
		t.Fatalf("after the batch committed the checkpoint is at %d, want %d", got, want)
	}
}
