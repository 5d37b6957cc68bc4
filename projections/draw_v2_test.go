package projections_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

func TestV2DrawInWinnersAndDrawLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	drawn := e.seedCampaign(t, 6, seedStart, 0)
	commit, d := e.drawV2(t, drawn, false, []int{4, 0}, []int{2, 5})
	e.append(t, drawn.id, domain.ParticipantErased{ParticipantID: drawn.regs[5].ParticipantID, EventID: drawn.id,
		Reason: domain.ErasedOnRequest, ErasedAt: seedStart, ErasedBy: "customer"})
	pending := e.seedCampaign(t, 2, seedStart, 0)
	pendingCommit, _ := e.drawV2(t, pending, true, []int{1}, nil)
	applyLive(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)

	rows, err := q.Winners(ctx, drawn.id)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Kind, Entry string
		Rank        int
		Named       bool
	}
	var got []row
	for _, r := range rows {
		got = append(got, row{r.Kind, r.EntryNumber, r.Rank, r.Name != "" && r.Phone != "" && r.ListedName != ""})
	}
	want := []row{
		{projections.WinnerKind, drawn.regs[4].EntryNumber, 1, true}, {projections.WinnerKind, drawn.regs[0].EntryNumber, 2, true},
		{projections.AlternateKind, drawn.regs[2].EntryNumber, 1, true},
		{projections.AlternateKind, drawn.regs[5].EntryNumber, 2, false}, // erased: no name, no phone, no listed name
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("winners read model (-want +got):\n%s", diff)
	}

	logs, err := q.DrawLogs(ctx, drawn.id)
	if err != nil || len(logs) != 1 {
		t.Fatalf("draw logs = %v, %v", logs, err)
	}
	l := logs[0]
	if l.State != projections.DrawStateDrawn || l.CandidatesRoot != commit.CandidatesRoot || l.AlternateCount != 2 ||
		l.Randomness == nil || *l.Randomness != commit.Randomness || l.CommittedAt == nil || !l.CommittedAt.Equal(commit.CommittedAt) ||
		l.CommittedBy != "owner-1" || l.Seed != d.Seed || l.Beacon == nil || *l.Beacon != *d.Beacon || l.CandidatesDigest != "" ||
		!cmp.Equal(l.Alternates, d.Alternates) || !cmp.Equal(l.Winners, d.Winners) || !l.DrawnAt.Equal(d.DrawnAt) {
		t.Errorf("draw log = %+v", l)
	}

	logs, err = q.DrawLogs(ctx, pending.id)
	if err != nil || len(logs) != 1 {
		t.Fatalf("pending draw logs = %v, %v", logs, err)
	}
	if l := logs[0]; l.State != projections.DrawStateCommitted || l.Seed != "" || !l.DrawnAt.IsZero() || len(l.Winners) != 0 ||
		l.CandidatesRoot != pendingCommit.CandidatesRoot || l.Randomness.Round != 777 || !strings.HasPrefix(l.Algorithm, "chacha8-weighted-merkle") {
		t.Errorf("pending draw log = %+v", l)
	}
	if rows, err := q.Winners(ctx, pending.id); err != nil || len(rows) != 0 {
		t.Errorf("a pending draw's winners = %v, %v", rows, err)
	}
}
