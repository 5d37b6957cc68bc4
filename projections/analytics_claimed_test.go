package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

// The analytics' claimed count folds PrizeClaimed once, live (a redelivered
// batch counts nothing twice) and in a rebuild (one definition); the owner's
// winners carry the campaign's claim deadline from the campaigns model.
func TestClaimedInAnalytics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.seedCampaign(t, 6, seedStart, 0)
	e.drawV2(t, c, false, []int{4, 0, 3}, []int{2})
	for i, reg := range []int{4, 0} {
		e.append(t, c.id, domain.PrizeClaimed{ParticipantID: c.regs[reg].ParticipantID, EventID: c.id,
			Delivery: "c2VhbGVk", ClaimedAt: seedStart.Add(time.Duration(72+i) * time.Hour)})
	}
	events := e.allEvents(t)
	applyLive(t, projections.NewProjectors(e.pool, nil), events)
	applyLive(t, projections.NewProjectors(e.pool, nil), events) // redelivered
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	check := func(when string) {
		t.Helper()
		a, err := q.Analytics(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Claimed != 2 || a.Winners != 3 {
			t.Errorf("%s: analytics claimed %d of %d winners, want 2 of 3", when, a.Claimed, a.Winners)
		}
	}
	check("live")
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true, DryRun: true}); r.Differs() {
		t.Errorf("a rebuild differs from the live read models: %+v", r.Diffs)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE analytics SET claimed = 0`); err != nil {
		t.Fatal(err)
	}
	rebuild(t, e.pool, projections.RebuildOptions{Projections: []string{projections.AnalyticsProjection}})
	check("rebuilt")

	rows, err := q.Winners(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	deadline := seedStart.Add(1000*time.Hour + domain.ClaimWindow) // the default: announceAt + 7 days
	for _, r := range rows {
		if !r.ClaimDeadline.Equal(deadline) {
			t.Errorf("%s %s: claim deadline %s, want the campaign's %s", r.Kind, r.EntryNumber, r.ClaimDeadline, deadline)
		}
	}
}
