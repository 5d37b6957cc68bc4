package domain_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func setOf(cands []domain.Candidate) *domain.CandidateSet {
	set := domain.NewCandidateSet(0)
	for _, c := range cands {
		set.Add(c.ParticipantID, []byte(c.EntryNumber), c.Visited)
	}
	return set
}

// A CandidateSet, filled one candidate at a time as the store reads them,
// draws exactly what Draw draws over the same candidates, packed or not.
func TestDrawSetDrawsLikeDraw(t *testing.T) {
	t.Parallel()
	canonical := randomCandidates(t, 3000, 4, 's')
	odd := func(at int) []domain.Candidate {
		c := slices.Clone(canonical)
		c[at].EntryNumber = "legacy-" + c[at].EntryNumber // not XXXX-XXXX: the set turns generic there
		return c
	}
	tests := []struct {
		name  string
		cands []domain.Candidate
	}{
		{"canonical entry numbers", canonical},
		{"one candidate", canonical[:1]},
		{"the first entry number not canonical", odd(0)},
		{"an entry number in the middle not canonical", odd(1500)},
		{"the last entry number not canonical", odd(2999)},
		{"shuffled", shuffled(canonical, 9)},
	}
	for _, tt := range tests {
		for _, opts := range []domain.DrawOptions{{WinnerCount: 1}, {WinnerCount: 25}, {WinnerCount: 25, VisitBonus: true, VisitBonusWeight: 3}} {
			want, err := domain.Draw(tt.cands, seedN(7), opts)
			if errors.Is(err, domain.ErrInvalidWinnerCount) {
				continue // more winners than candidates
			}
			if err != nil {
				t.Fatalf("%s: Draw: %v", tt.name, err)
			}
			set := setOf(tt.cands)
			if set.Len() != len(tt.cands) {
				t.Fatalf("%s: Len() = %d, want %d", tt.name, set.Len(), len(tt.cands))
			}
			got, err := domain.DrawSet(set, seedN(7), opts)
			if err != nil {
				t.Fatalf("%s: DrawSet: %v", tt.name, err)
			}
			if got.CandidatesDigest != want.CandidatesDigest || got.Algorithm != want.Algorithm ||
				got.CandidateCount != want.CandidateCount || !slices.Equal(got.Winners, want.Winners) {
				t.Errorf("%s %+v: DrawSet = %+v, Draw = %+v", tt.name, opts, got, want)
			}
		}
	}
}

// Candidates gives back what was added, whichever form the set holds.
func TestCandidateSetCandidates(t *testing.T) {
	t.Parallel()
	canonical := randomCandidates(t, 100, 3, 'c')
	mixed := slices.Clone(canonical)
	mixed[40].EntryNumber = "A-1"
	for name, cands := range map[string][]domain.Candidate{"canonical": canonical, "mixed": mixed, "empty": nil} {
		if got := setOf(cands).Candidates(); !slices.Equal(got, cands) && len(got)+len(cands) > 0 {
			t.Errorf("%s: Candidates() = %v, want %v", name, got, cands)
		}
	}
}

// DrawSet refuses what Draw refuses.
func TestDrawSetRejects(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	tests := []struct {
		name  string
		cands []domain.Candidate
		k     int
		want  error // nil: any error
	}{
		{"no candidates", nil, 1, domain.ErrInvalidWinnerCount},
		{"more winners than candidates", []domain.Candidate{{ParticipantID: id, EntryNumber: "AAAA-2222"}}, 2, domain.ErrInvalidWinnerCount},
		{"the same candidate twice, packed", []domain.Candidate{{ParticipantID: id, EntryNumber: "AAAA-2222"}, {ParticipantID: id, EntryNumber: "AAAA-2222"}}, 1, nil},
		{"the same candidate twice, generic", []domain.Candidate{{ParticipantID: id, EntryNumber: "x"}, {ParticipantID: id, EntryNumber: "x"}}, 1, nil},
		{"an empty entry number", []domain.Candidate{{ParticipantID: id}}, 1, nil},
		{"a comma in an entry number", []domain.Candidate{{ParticipantID: id, EntryNumber: "A,B"}}, 1, nil},
	}
	for _, tt := range tests {
		_, err := domain.DrawSet(setOf(tt.cands), seedN(1), domain.DrawOptions{WinnerCount: tt.k})
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: DrawSet error = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// A set read in parts and joined with AddSet is the set read in one: the
// same candidates in the same order, and the same leaves.
func TestAddSetIsOneSet(t *testing.T) {
	t.Parallel()
	cands := randomCandidates(t, 3000, 4, 9)
	legacy := slices.Clone(cands)
	legacy[2500].EntryNumber = "legacy 1"
	drawID := uuid.New()
	for name, cs := range map[string][]domain.Candidate{"packed": cands, "generic_in_the_second_part": legacy} {
		joined := setOf(cs[:2000])
		joined.AddSet(setOf(cs[2000:]))
		if got, want := joined.Candidates(), setOf(cs).Candidates(); !slices.Equal(got, want) {
			t.Errorf("%s: joined candidates differ from one set's", name)
		}
		a, err := domain.LeavesOf(joined, drawID, 2)
		if err != nil {
			t.Fatal(err)
		}
		b, err := domain.LeavesOf(setOf(cs), drawID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if a.Root != b.Root || !slices.Equal(a.Weights, b.Weights) {
			t.Errorf("%s: joined leaves differ from one set's", name)
		}
		for i := range a.Len() { // the candidate behind each leaf: a winner's id
			if a.Candidate(i) != b.Candidate(i) {
				t.Fatalf("%s: leaf %d is %v joined, %v in one set", name, i, a.Candidate(i), b.Candidate(i))
			}
		}
	}
}
