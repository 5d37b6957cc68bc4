package domain_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// A draw's read carries entry numbers only (CandidateSet.AddEntry): the
// commit and the picks are those of the named candidates, and CompleteDraw
// names exactly the picks from DrawCompletion.Participants — refusing a
// pick left unnamed rather than drawing a nil participant.
func TestCompleteDrawNamesPicksReadWithoutIDs(t *testing.T) {
	t.Parallel()
	packed := randomCandidates(t, 40, 3, 7)
	generic := append(slices.Clone(packed[:39]), domain.Candidate{ParticipantID: uuid.New(), EntryNumber: "legacy 7", Visited: true})
	for name, cands := range map[string][]domain.Candidate{"canonical": packed, "other_entry_numbers": generic} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := openCampaign(t)
			req := commitRequest()
			named, namedLeaves, err := c.CommitDraw(req, candidateSet(cands))
			if err != nil {
				t.Fatal(err)
			}
			unnamed := domain.NewCandidateSet(0)
			for _, cand := range shuffled(cands, 3) {
				unnamed.AddEntry([]byte(cand.EntryNumber), cand.Visited)
			}
			commit, leaves, err := c.CommitDraw(req, unnamed)
			if err != nil {
				t.Fatal(err)
			}
			if commit != named {
				t.Fatalf("commit without ids %+v, want %+v", commit, named)
			}
			seed := seedN(11)
			want, err := domain.CompleteDraw(named, namedLeaves, domain.DrawCompletion{Seed: seed, DrawnAt: t0, DrawnBy: "owner-1"})
			if err != nil {
				t.Fatal(err)
			}
			picks, err := leaves.Picks(seed, commit.WinnerCount, commit.AlternateCount)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]uuid.UUID{}
			for _, cand := range cands {
				if slices.Contains(picks, cand.EntryNumber) {
					ids[cand.EntryNumber] = cand.ParticipantID
				}
			}
			if len(ids) != commit.WinnerCount+commit.AlternateCount || len(picks) != len(ids) {
				t.Fatalf("picks %v name %d candidates, want %d", picks, len(ids), commit.WinnerCount+commit.AlternateCount)
			}
			got, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seed, DrawnAt: t0, DrawnBy: "owner-1", Participants: ids})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Winners, want.Winners) || !slices.Equal(got.Alternates, want.Alternates) ||
				!slices.Equal(got.WinnerLeaves, want.WinnerLeaves) || !slices.Equal(got.AlternateLeaves, want.AlternateLeaves) {
				t.Errorf("drawn without ids %+v / %+v, want %+v / %+v", got.Winners, got.Alternates, want.Winners, want.Alternates)
			}
			short := maps.Clone(ids)
			delete(short, picks[len(picks)-1])
			if _, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seed, Participants: short}); !errors.Is(err, domain.ErrUnnamedPick) {
				t.Errorf("an alternate left unnamed: %v, want ErrUnnamedPick", err)
			}
		})
	}
}
