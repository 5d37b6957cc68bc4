package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

// The campaigns read model carries each campaign's claim deadline: the one
// it was opened with, or, for a CampaignOpened stored without one (opened
// before the field existed), announceAt + 7 days; a rebuild gives the same.
func TestCampaignsCarryTheClaimDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	old, explicit := uuid.New(), uuid.New()
	// The test's append stores the JSON as marshalled: no claimDeadline for the old one.
	e.append(t, old, domain.CampaignOpened{EventID: old, OwnerID: "owner-a", Title: "예전 이벤트",
		StartsAt: now.Add(-48 * time.Hour), EndsAt: now.Add(-24 * time.Hour), AnnounceAt: now})
	e.append(t, explicit, domain.CampaignOpened{EventID: explicit, OwnerID: "owner-a", Title: "새 이벤트",
		StartsAt: now, EndsAt: now.Add(24 * time.Hour), AnnounceAt: now.Add(48 * time.Hour),
		ClaimDeadline: now.Add(72 * time.Hour)})
	applyAll(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))

	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	deadlines := func() map[uuid.UUID]time.Time {
		t.Helper()
		p, err := q.Campaigns(ctx, "owner-a", projections.CampaignFilter{Page: 1, Size: 20, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		out := map[uuid.UUID]time.Time{}
		for _, c := range p.Items {
			out[c.EventID] = c.ClaimDeadline.UTC()
		}
		return out
	}
	want := map[uuid.UUID]time.Time{old: now.Add(7 * 24 * time.Hour), explicit: now.Add(72 * time.Hour)}
	if diff := cmp.Diff(want, deadlines()); diff != "" {
		t.Fatalf("claim deadlines (-want +got):\n%s", diff)
	}
	before := snapshot(t, e.pool)
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true}); r.Differs() {
		t.Errorf("rebuild differs: %+v", r.Diffs)
	}
	if diff := cmp.Diff(before, snapshot(t, e.pool)); diff != "" {
		t.Errorf("tables after the rebuild (-live +rebuild):\n%s", diff)
	}
	if diff := cmp.Diff(want, deadlines()); diff != "" {
		t.Errorf("claim deadlines after the rebuild (-want +got):\n%s", diff)
	}
}
