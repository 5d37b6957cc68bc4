package commands_test

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// 당첨 확인's proof: a v1 draw committed to no tree, so its answers carry
// none; a v2 draw's carry the entry's proof for its own leaf whatever the
// outcome (TestResultCheck verifies them with the library over the API).
func TestCheckResultProofOnlyForAV2Draw(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed := [32]byte{7}
	v1Event, v2Event := f.openCampaign(t, "owner-1"), f.openCampaign(t, "owner-1")
	regs := map[uuid.UUID][]commands.Registration{}
	for _, ev := range []uuid.UUID{v1Event, v2Event} {
		for i := range 4 {
			r, err := register(f, ev, phoneN(i))
			if err != nil {
				t.Fatal(err)
			}
			regs[ev] = append(regs[ev], r)
		}
	}
	set, cutoff := candidatesNow(t, f, v1Event)
	v1, err := (&domain.Campaign{ID: v1Event, OwnerID: "owner-1"}).DrawWinnersAmong(domain.DrawRequest{DrawID: uuid.New(),
		Options: domain.DrawOptions{WinnerCount: 1}, Seed: seed, CutoffPosition: cutoff, DrawnAt: testNow, DrawnBy: "owner-1"}, set)
	if err != nil {
		t.Fatal(err)
	}
	appendDrawByHand(t, f, v1Event, v1.DrawID, v1)
	set, cutoff = candidatesNow(t, f, v2Event)
	commit, leaves, err := (&domain.Campaign{ID: v2Event, OwnerID: "owner-1"}).CommitDraw(domain.DrawCommitRequest{DrawID: uuid.New(),
		Options: domain.DrawOptions{WinnerCount: 1, AlternateCount: 1}, CutoffPosition: cutoff,
		Randomness: domain.DrawRandomness{Source: domain.RandomnessLocal}, CommittedAt: testNow, CommittedBy: "owner-1"}, set)
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seed, DrawnAt: testNow, DrawnBy: "owner-1"})
	if err != nil {
		t.Fatal(err)
	}
	appendDrawByHand(t, f, v2Event, commit.DrawID, commit, drawn)
	announced := testNow.Add(48 * time.Hour)
	f.now.Store(&announced)

	for i, r := range regs[v1Event] {
		got, err := f.app.Queries.CheckResult.Handle(ctx, commands.CheckResult{EventID: v1Event, Phone: phoneN(i), EntryNumber: r.EntryNumber})
		if err != nil || got.Proof != nil {
			t.Errorf("v1 %s: %+v, %v; want no proof", r.EntryNumber, got, err)
		}
	}
	outcomes := map[string]bool{}
	for i, r := range regs[v2Event] {
		got, err := f.app.Queries.CheckResult.Handle(ctx, commands.CheckResult{EventID: v2Event, Phone: phoneN(i), EntryNumber: r.EntryNumber})
		if err != nil || got.Proof == nil {
			t.Fatalf("v2 %s: %+v, %v; want a proof", r.EntryNumber, got, err)
		}
		outcomes[got.Outcome] = true
		leaf := domain.DrawLeafHash(domain.AppendDrawLeaf(nil, commit.DrawID, []byte(r.EntryNumber), got.Proof.Weight))
		if got.DrawID != commit.DrawID || got.Proof.Root != commit.CandidatesRoot || got.Proof.TreeSize != 4 ||
			leafHashAt(t, f, v2Event, got.Proof.LeafIndex) != hex.EncodeToString(leaf) {
			t.Errorf("v2 %s: proof %+v of draw %s, want its own leaf under root %s", r.EntryNumber, got.Proof, got.DrawID, commit.CandidatesRoot)
		}
	}
	if len(outcomes) != 3 {
		t.Errorf("outcomes %v, want WON, ALTERNATE and NOT_WON each with a proof", outcomes)
	}
}

// leafHashAt is the certificate's leaf hash at index.
func leafHashAt(t *testing.T, f *fixture, eventID uuid.UUID, index int) string {
	t.Helper()
	var got string
	err := f.app.Queries.Certificates.EachDrawLeaf(context.Background(), eventID, func(l domain.DrawLeafLine) error {
		if l.Index == index {
			got = l.LeafHash
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}
