package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

func TestDrawWinnersWithAlternates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	eventID := f.openCampaign(t, "owner-1")
	for i := range 6 {
		if _, err := register(f, eventID, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.app.Commands.DrawWinners.Handle(ctx, commands.DrawWinners{EventID: eventID, OwnerID: "owner-1", WinnerCount: 2, AlternateCount: 5}); !errors.Is(err, domain.ErrInvalidWinnerCount) {
		t.Fatalf("2 winners + 5 alternates among 6: err = %v, want ErrInvalidWinnerCount", err)
	}
	outcome, err := f.app.Commands.DrawWinners.Handle(ctx, commands.DrawWinners{EventID: eventID, OwnerID: "owner-1", WinnerCount: 2, AlternateCount: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(outcome.Winners) != 2 || len(outcome.Alternates) != 3 {
		t.Fatalf("outcome: %d winners, %d alternates, want 2 and 3", len(outcome.Winners), len(outcome.Alternates))
	}
	seen := map[uuid.UUID]bool{}
	for i, w := range slices.Concat(outcome.Winners, outcome.Alternates) {
		if seen[w.ParticipantID] || w.Name != "김**" || !strings.HasPrefix(w.Phone, "010-****-") { // masked by privacy.Mask
			t.Fatalf("pick %d = %+v: drawn twice or without its contact", i, w)
		}
		seen[w.ParticipantID] = true
	}
	for r, a := range outcome.Alternates {
		if a.Rank != r+1 {
			t.Errorf("alternate %d has rank %d", r+1, a.Rank)
		}
	}

	// commit and result, in this order, in the draw stream
	stored, err := f.store.ReadStream(ctx, domain.DrawStream(eventID))
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[0].Type != domain.TypeDrawCommitted || stored[1].Type != domain.TypeWinnersDrawn {
		t.Fatalf("draw stream holds %d events, want DrawCommitted then WinnersDrawn", len(stored))
	}
	var commit domain.DrawCommitted
	if err := json.Unmarshal(stored[0].Data, &commit); err != nil {
		t.Fatal(err)
	}
	if commit.Algorithm != domain.DrawAlgorithmMerkleV2 || commit.AlternateCount != 3 || commit.CandidateCount != 6 ||
		commit.Randomness.Source != domain.RandomnessLocal || len(commit.CandidatesRoot) != 64 || commit.CommittedBy != "owner-1" {
		t.Errorf("commit = %+v", commit)
	}

	v, err := f.app.Queries.VerifyDraw.Handle(ctx, commands.VerifyDraw{DrawID: outcome.DrawID, OwnerID: "owner-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Result.Verified || v.Commit == nil || len(v.Draw.Alternates) != 3 {
		t.Fatalf("verify: verified %v, mismatches %v, commit %v", v.Result.Verified, v.Result.Mismatches, v.Commit != nil)
	}
	if _, err := register(f, eventID, "010-9999-9999"); !errors.Is(err, domain.ErrEventNotOpen) {
		t.Fatalf("registration after the commit: err = %v, want ErrEventNotOpen", err)
	}
	if _, err := f.app.Commands.DrawWinners.Handle(ctx, commands.DrawWinners{EventID: eventID, OwnerID: "owner-1", WinnerCount: 1}); !errors.Is(err, domain.ErrAlreadyDrawn) {
		t.Fatalf("second draw: err = %v, want ErrAlreadyDrawn", err)
	}
}

// appendDrawByHand stores a draw's events as the command would, bypassing it.
func appendDrawByHand(t *testing.T, f *fixture, eventID, drawID uuid.UUID, events ...domain.Event) {
	t.Helper()
	var data []eventstore.EventData
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, eventstore.EventData{ID: uuid.New(), PartitionKey: eventID.String(),
			Type: e.EventType(), SchemaVersion: domain.SchemaVersion, Data: b})
	}
	if _, err := f.store.AppendWith(context.Background(), eventstore.AppendRequest{Stream: events[0].StreamID(),
		Expected: eventstore.NoStream, Events: data, Keys: []string{"draw:" + drawID.String()}}); err != nil {
		t.Fatal(err)
	}
}

// candidatesNow reads the campaign's candidates as a draw would, each
// named by its participant id (the draws these tests append by hand name
// every candidate, not only the picks).
func candidatesNow(t *testing.T, f *fixture, eventID uuid.UUID) (*domain.CandidateSet, int64) {
	t.Helper()
	var set *domain.CandidateSet
	var cutoff int64
	err := f.store.Exclusive(context.Background(), domain.CampaignStream(eventID), func(ctx context.Context, tx *eventstore.Tx) error {
		read, readCutoff, err := tx.DrawCandidates(ctx, eventID.String())
		if err != nil {
			return err
		}
		entries := make([]string, 0, read.Len())
		for _, c := range read.Candidates() {
			entries = append(entries, c.EntryNumber)
		}
		ids, err := tx.ParticipantIDs(ctx, eventID.String(), entries)
		if err != nil {
			return err
		}
		set, cutoff = domain.NewCandidateSet(read.Len()), readCutoff
		for _, c := range read.Candidates() {
			set.Add(ids[c.EntryNumber], []byte(c.EntryNumber), c.Visited)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return set, cutoff
}

func TestVerifyDrawV1AndTamperedV2(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	seed := [32]byte{7}

	// a v1 draw, as stores written before v2 hold them, keeps verifying
	v1Event := f.openCampaign(t, "owner-1")
	for i := range 5 {
		if _, err := register(f, v1Event, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	set, cutoff := candidatesNow(t, f, v1Event)
	campaign := domain.Campaign{ID: v1Event, OwnerID: "owner-1"}
	v1, err := campaign.DrawWinnersAmong(domain.DrawRequest{DrawID: uuid.New(), Options: domain.DrawOptions{WinnerCount: 2},
		Seed: seed, CutoffPosition: cutoff, DrawnAt: testNow, DrawnBy: "owner-1"}, set)
	if err != nil {
		t.Fatal(err)
	}
	appendDrawByHand(t, f, v1Event, v1.DrawID, v1)
	if v, err := f.app.Queries.VerifyDraw.Handle(ctx, commands.VerifyDraw{DrawID: v1.DrawID, OwnerID: "owner-1"}); err != nil || !v.Result.Verified || v.Commit != nil {
		t.Fatalf("v1 verify = %+v, %v", v.Result, err)
	}

	// a v2 draw whose alternates were swapped does not
	v2Event := f.openCampaign(t, "owner-1")
	for i := range 5 {
		if _, err := register(f, v2Event, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	set, cutoff = candidatesNow(t, f, v2Event)
	campaign = domain.Campaign{ID: v2Event, OwnerID: "owner-1"}
	commit, leaves, err := campaign.CommitDraw(domain.DrawCommitRequest{DrawID: uuid.New(), Options: domain.DrawOptions{WinnerCount: 1, AlternateCount: 2},
		CutoffPosition: cutoff, Randomness: domain.DrawRandomness{Source: domain.RandomnessLocal}, CommittedAt: testNow, CommittedBy: "owner-1"}, set)
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seed, DrawnAt: testNow, DrawnBy: "owner-1"})
	if err != nil {
		t.Fatal(err)
	}
	drawn.Alternates[0].ParticipantID, drawn.Alternates[1].ParticipantID = drawn.Alternates[1].ParticipantID, drawn.Alternates[0].ParticipantID
	appendDrawByHand(t, f, v2Event, commit.DrawID, commit, drawn)
	v, err := f.app.Queries.VerifyDraw.Handle(ctx, commands.VerifyDraw{DrawID: commit.DrawID, OwnerID: "owner-1"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Result.Verified || !slices.Equal(v.Result.Mismatches, []string{"alternates"}) {
		t.Fatalf("tampered v2 verify: verified %v, mismatches %v", v.Result.Verified, v.Result.Mismatches)
	}
}

func TestRetentionKeepsAlternatesAsLongAsWinners(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	eventID := f.openCampaign(t, "owner-1")
	for i := range 5 {
		if _, err := register(f, eventID, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.app.Commands.DrawWinners.Handle(ctx, commands.DrawWinners{EventID: eventID, OwnerID: "owner-1", WinnerCount: 1, AlternateCount: 2}); err != nil {
		t.Fatal(err)
	}
	announce := testNow.Add(48 * time.Hour) // openCampaign's announceAt
	r, err := f.app.Commands.RunRetention.Handle(ctx, commands.RunRetention{Now: announce.Add(2 * time.Hour), NonWinners: time.Hour, Winners: 10 * time.Hour, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Due != 2 {
		t.Errorf("due after the non-winners' retention = %d, want 2 (the winner and both alternates kept)", r.Due)
	}
}
