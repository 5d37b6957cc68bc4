package domain_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// seedN is the i-th fixed seed of the statistical tests: sha256(i).
func seedN(i int) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return sha256.Sum256(b[:])
}

func shuffled(cands []domain.Candidate, seed uint64) []domain.Candidate {
	out := slices.Clone(cands)
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

type goldenCandidate struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Visited       bool      `json:"visited"`
}

type goldenDraw struct {
	WinnerCount      int             `json:"winnerCount"`
	VisitBonus       bool            `json:"visitBonus"`
	VisitBonusWeight int             `json:"visitBonusWeight"`
	Algorithm        string          `json:"algorithm"`
	CandidateCount   int             `json:"candidateCount"`
	CandidatesDigest string          `json:"candidatesDigest"`
	Winners          []domain.Winner `json:"winners"`
}

type golden struct {
	Seed       string            `json:"seed"`
	Candidates []goldenCandidate `json:"candidates"`
	Draws      []goldenDraw      `json:"draws"`
}

// TestDrawGolden pins the draw: a change here breaks the verification of
// every recorded draw, so it needs a new algorithm name, not -update.
func TestDrawGolden(t *testing.T) {
	t.Parallel()
	seed := sha256.Sum256([]byte("golden draw seed"))
	cands := randomCandidates(t, 50, 3, 'g')
	got := golden{Seed: hex.EncodeToString(seed[:])}
	for _, c := range cands {
		got.Candidates = append(got.Candidates, goldenCandidate(c))
	}
	for _, opts := range []domain.DrawOptions{
		{WinnerCount: 5},
		{WinnerCount: 5, VisitBonus: true},
		{WinnerCount: 5, VisitBonus: true, VisitBonusWeight: 10},
	} {
		res, err := domain.Draw(cands, seed, opts)
		if err != nil {
			t.Fatal(err)
		}
		got.Draws = append(got.Draws, goldenDraw{
			WinnerCount: res.Options.WinnerCount, VisitBonus: res.Options.VisitBonus, VisitBonusWeight: res.Options.VisitBonusWeight,
			Algorithm: res.Algorithm, CandidateCount: res.CandidateCount, CandidatesDigest: res.CandidatesDigest, Winners: res.Winners,
		})
	}
	path := filepath.Join("testdata", "draw_golden.json")
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var want golden
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("draw differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestDrawPicksDistinctRankedCandidates(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 10, 500} {
		cands := randomCandidates(t, n, 4, byte(n))
		byID := make(map[uuid.UUID]domain.Candidate, n)
		for _, c := range cands {
			byID[c.ParticipantID] = c
		}
		for _, k := range []int{1, (n + 1) / 2, n} {
			for _, bonus := range []bool{false, true} {
				t.Run(fmt.Sprintf("n=%d/k=%d/bonus=%t", n, k, bonus), func(t *testing.T) {
					t.Parallel()
					res, err := domain.Draw(cands, seedN(n*k), domain.DrawOptions{WinnerCount: k, VisitBonus: bonus})
					if err != nil {
						t.Fatal(err)
					}
					if got, want := len(res.Winners), k; got != want {
						t.Fatalf("winners = %d, want %d", got, want)
					}
					seen := map[uuid.UUID]bool{}
					for i, w := range res.Winners {
						if got, want := w.Rank, i+1; got != want {
							t.Errorf("winner %d rank = %d, want %d", i, got, want)
						}
						c, ok := byID[w.ParticipantID]
						if !ok || c.EntryNumber != w.EntryNumber {
							t.Errorf("winner %+v is not a candidate", w)
						}
						if seen[w.ParticipantID] {
							t.Errorf("winner %s drawn twice", w.ParticipantID)
						}
						seen[w.ParticipantID] = true
					}
					if got, want := res.CandidateCount, n; got != want {
						t.Errorf("candidate count = %d, want %d", got, want)
					}
				})
			}
		}
	}
}

func TestDrawWinnerCountOutOfRange(t *testing.T) {
	t.Parallel()
	cands := randomCandidates(t, 3, 0, 1)
	tests := []struct {
		name  string
		cands []domain.Candidate
		k     int
	}{
		{"zero_winners_is_invalid", cands, 0},
		{"negative_winners_is_invalid", cands, -1},
		{"more_winners_than_candidates_is_invalid", cands, 4},
		{"no_candidates_is_invalid", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, bonus := range []bool{false, true} {
				_, err := domain.Draw(tt.cands, seedN(1), domain.DrawOptions{WinnerCount: tt.k, VisitBonus: bonus})
				if !errors.Is(err, domain.ErrInvalidWinnerCount) {
					t.Errorf("bonus=%t: error = %v, want ErrInvalidWinnerCount", bonus, err)
				}
			}
		})
	}
}

func TestDrawOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       domain.DrawOptions
		wantWeight int
		wantAlgo   string
		wantFields []string
	}{
		{"no_bonus_weighs_everyone_one", domain.DrawOptions{WinnerCount: 1}, 1, domain.DrawAlgorithm, nil},
		{"bonus_defaults_to_weight_two", domain.DrawOptions{WinnerCount: 1, VisitBonus: true}, 2, domain.DrawAlgorithmWeighted, nil},
		{"bonus_weight_ten_is_allowed", domain.DrawOptions{WinnerCount: 1, VisitBonus: true, VisitBonusWeight: 10}, 10, domain.DrawAlgorithmWeighted, nil},
		{"bonus_weight_one_is_weighted_still", domain.DrawOptions{WinnerCount: 1, VisitBonus: true, VisitBonusWeight: 1}, 1, domain.DrawAlgorithmWeighted, nil},
		{"weight_without_bonus_is_ignored", domain.DrawOptions{WinnerCount: 1, VisitBonusWeight: 5}, 1, domain.DrawAlgorithm, nil},
		{"bonus_weight_eleven_is_invalid", domain.DrawOptions{WinnerCount: 1, VisitBonus: true, VisitBonusWeight: 11}, 0, "", []string{"visitBonusWeight"}},
		{"negative_bonus_weight_is_invalid", domain.DrawOptions{WinnerCount: 1, VisitBonus: true, VisitBonusWeight: -1}, 0, "", []string{"visitBonusWeight"}},
		{"invalid_weight_is_reported_before_the_count", domain.DrawOptions{WinnerCount: 0, VisitBonus: true, VisitBonusWeight: 11}, 0, "", []string{"visitBonusWeight"}},
	}
	cands := randomCandidates(t, 5, 2, 5)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := domain.Draw(cands, seedN(0), tt.opts)
			if diff := cmp.Diff(tt.wantFields, fields(t, err)); diff != "" {
				t.Fatalf("failed fields (-want +got):\n%s", diff)
			}
			if tt.wantFields != nil {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Options.VisitBonusWeight, tt.wantWeight; got != want {
				t.Errorf("weight = %d, want %d", got, want)
			}
			if got, want := res.Algorithm, tt.wantAlgo; got != want {
				t.Errorf("algorithm = %q, want %q", got, want)
			}
		})
	}
}

func TestDrawIgnoresInputOrder(t *testing.T) {
	t.Parallel()
	canonical := randomCandidates(t, 300, 3, 7)
	collisions := slices.Clone(canonical)
	for i := 0; i < 20; i += 2 { // the same entry number twice: ordered by participant id
		collisions[i+1].EntryNumber = collisions[i].EntryNumber
	}
	legacy := slices.Clone(collisions)
	legacy[0].EntryNumber = "legacy-0001" // not XXXX-XXXX: the general sort
	sets := map[string][]domain.Candidate{"canonical": canonical, "colliding": collisions, "legacy": legacy}
	for name, cands := range sets {
		for _, bonus := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bonus=%t", name, bonus), func(t *testing.T) {
				t.Parallel()
				opts := domain.DrawOptions{WinnerCount: 50, VisitBonus: bonus}
				want, err := domain.Draw(cands, seedN(42), opts)
				if err != nil {
					t.Fatal(err)
				}
				for s := range uint64(5) {
					got, err := domain.Draw(shuffled(cands, s), seedN(42), opts)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("shuffle %d changed the draw (-want +got):\n%s", s, diff)
					}
				}
			})
		}
	}
}

func TestDrawDigestIsOverSortedCanonicalLines(t *testing.T) {
	t.Parallel()
	a := uuid.MustParse("00000000-0000-4000-8000-00000000000a")
	b := uuid.MustParse("00000000-0000-4000-8000-00000000000b")
	c := uuid.MustParse("00000000-0000-4000-8000-00000000000c")
	cands := []domain.Candidate{
		{ParticipantID: c, EntryNumber: "ZZZZ-2222"},
		{ParticipantID: b, EntryNumber: "AAAA-2222", Visited: true},
		{ParticipantID: a, EntryNumber: "AAAA-2222"},
	}
	lines := a.String() + ",AAAA-2222,false\n" + b.String() + ",AAAA-2222,true\n" + c.String() + ",ZZZZ-2222,false\n"
	sum := sha256.Sum256([]byte(lines))
	res, err := domain.Draw(cands, seedN(0), domain.DrawOptions{WinnerCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.CandidatesDigest, hex.EncodeToString(sum[:]); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
}

func TestDrawDoesNotModifyItsInput(t *testing.T) {
	t.Parallel()
	cands := randomCandidates(t, 100, 3, 9)
	before := slices.Clone(cands)
	for _, bonus := range []bool{false, true} {
		if _, err := domain.Draw(cands, seedN(1), domain.DrawOptions{WinnerCount: 100, VisitBonus: bonus}); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(before, cands); diff != "" {
		t.Errorf("candidates changed (-before +after):\n%s", diff)
	}
}

func TestDrawRejectsAmbiguousCandidates(t *testing.T) {
	t.Parallel()
	base := randomCandidates(t, 5, 0, 3)
	tests := []struct {
		name string
		edit func([]domain.Candidate)
	}{
		{"same_candidate_twice", func(c []domain.Candidate) { c[1] = c[0] }},
		{"same_candidate_twice_with_other_visit_flag", func(c []domain.Candidate) { c[1] = c[0]; c[1].Visited = !c[0].Visited }},
		{"same_legacy_candidate_twice", func(c []domain.Candidate) { c[0].EntryNumber = "x"; c[1] = c[0] }},
		{"empty_entry_number", func(c []domain.Candidate) { c[2].EntryNumber = "" }},
		{"entry_number_with_comma", func(c []domain.Candidate) { c[2].EntryNumber = "AB,C" }},
		{"entry_number_with_line_break", func(c []domain.Candidate) { c[2].EntryNumber = "AB\nC" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cands := slices.Clone(base)
			tt.edit(cands)
			_, err := domain.Draw(cands, seedN(0), domain.DrawOptions{WinnerCount: 1})
			if err == nil || errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrInvalidWinnerCount) {
				t.Errorf("error = %v, want an internal error", err)
			}
		})
	}
}

func TestDrawDifferentSeedsGiveDifferentWinners(t *testing.T) {
	t.Parallel()
	cands := randomCandidates(t, 1000, 3, 11)
	for _, bonus := range []bool{false, true} {
		opts := domain.DrawOptions{WinnerCount: 10, VisitBonus: bonus}
		a, err := domain.Draw(cands, seedN(1), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := domain.Draw(cands, seedN(2), opts)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(a.Winners, b.Winners) {
			t.Errorf("bonus=%t: two seeds drew the same 10 of 1000", bonus)
		}
		if got, want := a.CandidatesDigest, b.CandidatesDigest; got != want {
			t.Errorf("bonus=%t: digest depends on the seed: %s vs %s", bonus, got, want)
		}
	}
}

// chiSquare returns Σ (observed-expected)²/expected.
func chiSquare(observed []int, expected []float64) float64 {
	var s float64
	for i, o := range observed {
		d := float64(o) - expected[i]
		s += d * d / expected[i]
	}
	return s
}

func uniformExpectation(n int, total float64) []float64 {
	e := make([]float64, n)
	for i := range e {
		e[i] = total / float64(n)
	}
	return e
}

// The statistical tests use fixed seeds (seedN), so they are deterministic:
// they check that the sampling is fair, and then never flake.
func TestDrawIsUniform(t *testing.T) {
	t.Parallel()
	const (
		draws    = 20_000
		critical = 27.88 // chi-square, 9 degrees of freedom, 99.9%
	)
	cands := randomCandidates(t, 10, 0, 13)
	index := map[uuid.UUID]int{}
	for i, c := range cands {
		index[c.ParticipantID] = i
	}
	for _, k := range []int{1, 3} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			t.Parallel()
			byRank := make([][]int, k) // byRank[r][i]: candidate i won rank r+1
			for r := range byRank {
				byRank[r] = make([]int, len(cands))
			}
			for i := range draws {
				res, err := domain.Draw(cands, seedN(i), domain.DrawOptions{WinnerCount: k})
				if err != nil {
					t.Fatal(err)
				}
				for r, w := range res.Winners {
					byRank[r][index[w.ParticipantID]]++
				}
			}
			for r, counts := range byRank {
				if chi2 := chiSquare(counts, uniformExpectation(len(cands), draws)); chi2 > critical {
					t.Errorf("rank %d: chi-square = %.2f, want below %.2f; counts %v", r+1, chi2, critical, counts)
				}
			}
		})
	}
}

func TestDrawVisitBonus(t *testing.T) {
	t.Parallel()
	const draws = 30_000

	t.Run("visitor_of_two_wins_two_thirds", func(t *testing.T) {
		t.Parallel()
		cands := randomCandidates(t, 2, 0, 17)
		cands[0].Visited = true
		visitorWins := 0
		for i := range draws {
			res, err := domain.Draw(cands, seedN(i), domain.DrawOptions{WinnerCount: 1, VisitBonus: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Winners[0].ParticipantID == cands[0].ParticipantID {
				visitorWins++
			}
		}
		// the standard deviation is 0.0027; ±0.02 is more than 7 of them
		if got, want := float64(visitorWins)/draws, 2.0/3; got < want-0.02 || got > want+0.02 {
			t.Errorf("visitor won %.4f of draws, want %.4f ± 0.02", got, want)
		}
	})

	t.Run("visitors_win_twice_as_often_each", func(t *testing.T) {
		t.Parallel()
		cands := randomCandidates(t, 100, 2, 19) // 50 visitors, 50 others
		visited := map[uuid.UUID]bool{}
		for _, c := range cands {
			visited[c.ParticipantID] = c.Visited
		}
		var visitorWins, otherWins int
		for i := range draws {
			res, err := domain.Draw(cands, seedN(i), domain.DrawOptions{WinnerCount: 1, VisitBonus: true})
			if err != nil {
				t.Fatal(err)
			}
			if visited[res.Winners[0].ParticipantID] {
				visitorWins++
			} else {
				otherWins++
			}
		}
		// as many visitors as others, so the ratio of wins is the weight;
		// its standard deviation is about 0.024, the tolerance 0.1
		if got, want := float64(visitorWins)/float64(otherWins), 2.0; got < want-0.1 || got > want+0.1 {
			t.Errorf("visitor/other wins = %.3f, want %.1f ± 0.1", got, want)
		}
	})

	t.Run("weighted_sampling_is_without_replacement", func(t *testing.T) {
		t.Parallel()
		// A weighs 2, B and C 1. P(first, second) = w₁/4 · w₂/(4-w₁):
		// AB = AC = 1/4, BA = CA = 1/6, BC = CB = 1/12.
		cands := randomCandidates(t, 3, 0, 23)
		cands[0].Visited = true
		name := map[uuid.UUID]string{cands[0].ParticipantID: "A", cands[1].ParticipantID: "B", cands[2].ParticipantID: "C"}
		pairs := []string{"AB", "AC", "BA", "BC", "CA", "CB"}
		p := []float64{1.0 / 4, 1.0 / 4, 1.0 / 6, 1.0 / 12, 1.0 / 6, 1.0 / 12}
		counts := make([]int, len(pairs))
		for i := range draws {
			res, err := domain.Draw(cands, seedN(i), domain.DrawOptions{WinnerCount: 2, VisitBonus: true})
			if err != nil {
				t.Fatal(err)
			}
			counts[slices.Index(pairs, name[res.Winners[0].ParticipantID]+name[res.Winners[1].ParticipantID])]++
		}
		expected := make([]float64, len(p))
		for i := range p {
			expected[i] = p[i] * draws
		}
		const critical = 20.52 // chi-square, 5 degrees of freedom, 99.9%
		if chi2 := chiSquare(counts, expected); chi2 > critical {
			t.Errorf("chi-square = %.2f, want below %.2f; counts %v for %v", chi2, critical, counts, pairs)
		}
	})
}

func TestCampaignDrawWinners(t *testing.T) {
	t.Parallel()
	c := openCampaign(t)
	cands := randomCandidates(t, 20, 3, 29)
	seed := seedN(7)
	req := domain.DrawRequest{
		DrawID:         uuid.MustParse("d0000000-0000-4000-8000-000000000001"),
		Options:        domain.DrawOptions{WinnerCount: 3, VisitBonus: true},
		Seed:           seed,
		CutoffPosition: 1234,
		DrawnAt:        t0.Add(time.Hour).In(time.FixedZone("KST", 9*3600)),
		DrawnBy:        "owner-1",
	}
	e, err := c.DrawWinners(req, cands)
	if err != nil {
		t.Fatal(err)
	}
	res, err := domain.Draw(cands, seed, req.Options)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.WinnersDrawn{
		DrawID: req.DrawID, EventID: c.ID, WinnerCount: 3, VisitBonus: true, VisitBonusWeight: 2,
		Algorithm: domain.DrawAlgorithmWeighted, Seed: hex.EncodeToString(seed[:]),
		CandidateCount: 20, CandidatesDigest: res.CandidatesDigest, CutoffPosition: 1234,
		Winners: res.Winners, DrawnAt: t0.Add(time.Hour), DrawnBy: "owner-1",
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}

	drawn, err := c.Apply(e)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		campaign domain.Campaign
		edit     func(*domain.DrawRequest)
		wantErr  error
	}{
		{"other_owner_is_refused", c, func(r *domain.DrawRequest) { r.DrawnBy = "owner-2" }, domain.ErrNotOwner},
		{"second_draw_is_refused", drawn, func(*domain.DrawRequest) {}, domain.ErrAlreadyDrawn},
		{"second_draw_is_refused_before_the_count", drawn, func(r *domain.DrawRequest) { r.Options.WinnerCount = 0 }, domain.ErrAlreadyDrawn},
		{"count_above_candidates_is_invalid", c, func(r *domain.DrawRequest) { r.Options.WinnerCount = 21 }, domain.ErrInvalidWinnerCount},
		{"bad_weight_is_invalid", c, func(r *domain.DrawRequest) { r.Options.VisitBonusWeight = 99 }, domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := req
			tt.edit(&r)
			if _, err := tt.campaign.DrawWinners(r, cands); !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyDraw(t *testing.T) {
	t.Parallel()
	c := openCampaign(t)
	cands := randomCandidates(t, 200, 3, 31)
	for _, bonus := range []bool{false, true} {
		e, err := c.DrawWinners(domain.DrawRequest{
			DrawID: uuid.New(), Options: domain.DrawOptions{WinnerCount: 10, VisitBonus: bonus},
			Seed: seedN(3), DrawnAt: t0, DrawnBy: "owner-1",
		}, cands)
		if err != nil {
			t.Fatal(err)
		}
		// the event as the store gives it back
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := domain.DecodeEvent(domain.TypeWinnersDrawn, data)
		if err != nil {
			t.Fatal(err)
		}
		recorded := stored.(domain.WinnersDrawn)

		tampered := recorded
		tampered.Winners = slices.Clone(recorded.Winners)
		tampered.Winners[0], tampered.Winners[1] = tampered.Winners[1], tampered.Winners[0]
		flipped := slices.Clone(cands)
		flipped[0].Visited = !flipped[0].Visited

		tests := []struct {
			name  string
			draw  domain.WinnersDrawn
			cands []domain.Candidate
			want  []string // mismatches that must be reported
			may   []string // mismatches that may be reported too
		}{
			{"untouched_draw_verifies", recorded, shuffled(cands, 1), nil, nil},
			{"swapped_ranks_do_not_verify", tampered, cands, []string{"winners"}, nil},
			{"a_missing_candidate_does_not_verify", recorded, cands[1:], []string{"candidateCount", "candidatesDigest"}, []string{"winners"}},
			// the visit flag moves the winners only with the bonus
			{"a_changed_visit_flag_changes_the_digest", recorded, flipped, []string{"candidatesDigest"}, []string{"winners"}},
			{"too_few_candidates_do_not_verify", recorded, cands[:5], []string{"candidateCount"}, nil},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/bonus=%t", tt.name, bonus), func(t *testing.T) {
				t.Parallel()
				v, err := domain.VerifyDraw(tt.draw, tt.cands)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := v.Verified, tt.want == nil; got != want {
					t.Errorf("verified = %t, want %t", got, want)
				}
				for _, m := range tt.want {
					if !slices.Contains(v.Mismatches, m) {
						t.Errorf("mismatches %v lack %q", v.Mismatches, m)
					}
				}
				for _, m := range v.Mismatches {
					if !slices.Contains(tt.want, m) && !slices.Contains(tt.may, m) {
						t.Errorf("unexpected mismatch %q", m)
					}
				}
			})
		}
	}
	if _, err := domain.VerifyDraw(domain.WinnersDrawn{Seed: "zz"}, cands); err == nil {
		t.Error("VerifyDraw(malformed seed) error = nil, want an error")
	}
}

func TestParseSeed(t *testing.T) {
	t.Parallel()
	seed := seedN(5)
	got, err := domain.ParseSeed(hex.EncodeToString(seed[:]))
	if err != nil || got != seed {
		t.Errorf("ParseSeed(hex) = %x, %v; want %x", got, err, seed)
	}
	for _, bad := range []string{"", "00", strings.Repeat("g", 64), strings.Repeat("0", 66)} {
		if _, err := domain.ParseSeed(bad); err == nil {
			t.Errorf("ParseSeed(%q) error = nil, want an error", bad)
		}
	}
}
