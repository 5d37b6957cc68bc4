package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

// A winner's claim reaches the winners read model, live and in a rebuild
// of the winners alone (one definition); an alternate and an unclaimed
// winner stay unclaimed.
func TestClaimInWinners(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	drawn := e.seedCampaign(t, 6, seedStart, 0)
	e.drawV2(t, drawn, false, []int{4, 0}, []int{2})
	claimedAt := seedStart.Add(72 * time.Hour)
	e.append(t, drawn.id, domain.PrizeClaimed{ParticipantID: drawn.regs[0].ParticipantID, EventID: drawn.id,
		Delivery: "c2VhbGVk", ClaimedAt: claimedAt})
	applyLive(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	type row struct {
		Entry   string
		Claimed time.Time
	}
	want := []row{{drawn.regs[4].EntryNumber, time.Time{}}, {drawn.regs[0].EntryNumber, claimedAt}, {drawn.regs[2].EntryNumber, time.Time{}}}
	check := func(when string) {
		t.Helper()
		rows, err := q.Winners(ctx, drawn.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []row
		for _, r := range rows {
			got = append(got, row{r.EntryNumber, r.ClaimedAt})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: winners' claims (-want +got):\n%s", when, diff)
		}
	}
	check("live")
	if _, err := e.pool.Exec(ctx, `UPDATE winners SET claimed_at = NULL`); err != nil {
		t.Fatal(err)
	}
	rebuild(t, e.pool, projections.RebuildOptions{Projections: []string{projections.WinnersProjection}})
	check("rebuilt")
}
