package domain_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// rfc6962Root is RFC 6962's MTH written out from its definition (section
// 2.1), independent of the library: the largest power of two below n splits.
func rfc6962Root(leaves [][]byte) []byte {
	switch n := len(leaves); n {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		h := sha256.Sum256(append([]byte{0}, leaves[0]...))
		return h[:]
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		h := sha256.Sum256(slices.Concat([]byte{1}, rfc6962Root(leaves[:k]), rfc6962Root(leaves[k:])))
		return h[:]
	}
}

func TestMerkleTreeIsRFC6962(t *testing.T) {
	t.Parallel()
	for n := range 40 {
		leaves := make([][]byte, n)
		tree := domain.NewMerkleTree()
		for i := range leaves {
			leaves[i] = []byte("leaf " + strconv.Itoa(i))
			tree.AppendLeaf(leaves[i])
		}
		if got, want := tree.RootHex(), hex.EncodeToString(rfc6962Root(leaves)); got != want {
			t.Errorf("n=%d: root %s, want %s", n, got, want)
		}
		if got := tree.Size(); got != uint64(n) {
			t.Errorf("n=%d: size %d", n, got)
		}
	}
}

func TestMerkleHashesAreRFC6962(t *testing.T) {
	t.Parallel()
	for _, leaf := range [][]byte{nil, []byte("a"), make([]byte, 300)} {
		want := sha256.Sum256(append([]byte{0}, leaf...))
		if got := domain.DrawLeafHash(leaf); hex.EncodeToString(got) != hex.EncodeToString(want[:]) {
			t.Errorf("leaf hash of %q = %x, want %x", leaf, got, want)
		}
		one := domain.NewMerkleTree()
		one.AppendLeaf(leaf)
		if got := one.Root(); hex.EncodeToString(got) != hex.EncodeToString(want[:]) {
			t.Errorf("a tree of %q alone: root %x, want its leaf hash %x", leaf, got, want)
		}
	}
}

// A big draw's leaves are hashed in parts on several cores: the root is
// still the one of the leaves in order.
func TestLeavesOfManyIsTheRootOfTheLeavesInOrder(t *testing.T) {
	t.Parallel()
	cands := randomCandidates(t, 200_003, 3, 41)
	drawID := uuid.New()
	leaves, err := domain.LeavesOf(candidateSet(cands), drawID, 3)
	if err != nil {
		t.Fatal(err)
	}
	sorted := slices.SortedFunc(slices.Values(cands), func(a, b domain.Candidate) int { return strings.Compare(a.EntryNumber, b.EntryNumber) })
	tree := domain.NewMerkleTree()
	for _, c := range sorted {
		w := uint32(1)
		if c.Visited {
			w = 3
		}
		tree.AppendLeaf(domain.AppendDrawLeaf(nil, drawID, []byte(c.EntryNumber), w))
	}
	if leaves.Root != tree.RootHex() {
		t.Errorf("root %s, want %s", leaves.Root, tree.RootHex())
	}
}

func TestDrawLeafBytes(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("D0000000-0000-4000-8000-00000000000A")
	got := string(domain.AppendDrawLeaf(nil, id, []byte("ABCD-2345"), 10))
	if want := "d0000000-0000-4000-8000-00000000000a|ABCD-2345|10"; got != want {
		t.Errorf("leaf %q, want %q", got, want)
	}
}

// naiveOrder is DrawOrder's definition read literally: a linear scan of
// cumulative weights over the remaining leaves.
func naiveOrder(weights []uint32, seed [32]byte, k int) []int {
	rng := rand.New(rand.NewChaCha8(seed))
	left := slices.Clone(weights)
	var out []int
	for range k {
		var total uint64
		for _, w := range left {
			total += uint64(w)
		}
		t := rng.Uint64N(total)
		var c uint64
		for i, w := range left {
			if t >= c && t < c+uint64(w) {
				out = append(out, i)
				left[i] = 0
				break
			}
			c += uint64(w)
		}
	}
	return out
}

func TestDrawOrderFollowsItsDefinition(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 1 + r.IntN(70)
		weights := make([]uint32, n)
		for i := range weights {
			weights[i] = 1 + uint32(r.IntN(10))
		}
		w := 1 + r.IntN(n)
		a := r.IntN(n - w + 1)
		seed := seedN(trial)
		ws, as, err := domain.DrawOrder(weights, seed, w, a)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := slices.Concat(ws, as), naiveOrder(weights, seed, w+a); !slices.Equal(got, want) {
			t.Fatalf("trial %d (n=%d, w=%d, a=%d): order %v, want %v", trial, n, w, a, got, want)
		}
	}
}

func TestDrawOrderCounts(t *testing.T) {
	t.Parallel()
	weights := []uint32{1, 2, 1}
	tests := []struct {
		name    string
		w, a    int
		wantErr error
	}{
		{"all_drawn", 2, 1, nil},
		{"winners_and_alternates_above_candidates", 2, 2, domain.ErrInvalidWinnerCount},
		{"negative_alternates", 1, -1, domain.ErrInvalidWinnerCount},
		{"negative_winners", -1, 1, domain.ErrInvalidWinnerCount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := domain.DrawOrder(weights, seedN(1), tt.w, tt.a); !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, _, err := domain.DrawOrder([]uint32{1, 0}, seedN(1), 1, 0); err == nil {
		t.Error("a leaf of weight 0 was accepted")
	}
}

func candidateSet(cands []domain.Candidate) *domain.CandidateSet {
	s := domain.NewCandidateSet(len(cands))
	for _, c := range cands {
		s.Add(c.ParticipantID, []byte(c.EntryNumber), c.Visited)
	}
	return s
}

func commitRequest() domain.DrawCommitRequest {
	return domain.DrawCommitRequest{
		DrawID:         uuid.MustParse("d0000000-0000-4000-8000-000000000002"),
		Options:        domain.DrawOptions{WinnerCount: 3, AlternateCount: 2, VisitBonus: true},
		CutoffPosition: 99,
		Randomness:     domain.DrawRandomness{Source: domain.RandomnessLocal},
		CommittedAt:    t0,
		CommittedBy:    "owner-1",
	}
}

func TestCommitAndCompleteDraw(t *testing.T) {
	t.Parallel()
	c := openCampaign(t)
	cands := randomCandidates(t, 20, 3, 31)
	req := commitRequest()
	commit, leaves, err := c.CommitDraw(req, candidateSet(shuffled(cands, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if commit.Algorithm != domain.DrawAlgorithmMerkleV2 || commit.CandidateCount != 20 || commit.AlternateCount != 2 || commit.VisitBonusWeight != 2 {
		t.Errorf("commit %+v", commit)
	}
	// the leaves are the candidates by entry number, visitors weighing 2
	sorted := slices.SortedFunc(slices.Values(cands), func(a, b domain.Candidate) int { return strings.Compare(a.EntryNumber, b.EntryNumber) })
	tree := domain.NewMerkleTree()
	for i, cand := range sorted {
		w := uint32(1)
		if cand.Visited {
			w = 2
		}
		if leaves.Candidate(i) != cand || leaves.Weights[i] != w {
			t.Fatalf("leaf %d: %+v weighing %d, want %+v weighing %d", i, leaves.Candidate(i), leaves.Weights[i], cand, w)
		}
		tree.AppendLeaf(domain.AppendDrawLeaf(nil, req.DrawID, []byte(cand.EntryNumber), w))
	}
	if commit.CandidatesRoot != tree.RootHex() {
		t.Errorf("root %s, want %s", commit.CandidatesRoot, tree.RootHex())
	}

	seed := seedN(3)
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seed, DrawnAt: t0.Add(time.Second), DrawnBy: "owner-1"})
	if err != nil {
		t.Fatal(err)
	}
	wi, ai, _ := domain.DrawOrder(leaves.Weights, seed, 3, 2)
	for r, i := range wi {
		if w := drawn.Winners[r]; w.ParticipantID != sorted[i].ParticipantID || w.Rank != r+1 {
			t.Errorf("winner %d = %+v, want leaf %d", r+1, w, i)
		}
	}
	for r, i := range ai {
		if a := drawn.Alternates[r]; a.ParticipantID != sorted[i].ParticipantID || a.Rank != r+1 {
			t.Errorf("alternate %d = %+v, want leaf %d", r+1, a, i)
		}
	}
	if drawn.Seed != hex.EncodeToString(seed[:]) || drawn.Beacon != nil || drawn.CandidatesDigest != "" {
		t.Errorf("drawn %+v", drawn)
	}

	// the same candidates in another order verify; tampering does not
	v, err := domain.VerifyDrawV2(commit, drawn, candidateSet(shuffled(cands, 9)))
	if err != nil || !v.Verified {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	swapped := drawn
	swapped.Alternates = slices.Clone(drawn.Alternates)
	swapped.Alternates[0], swapped.Alternates[1] = drawn.Alternates[1], drawn.Alternates[0]
	wrongWinner := drawn
	wrongWinner.Winners = slices.Clone(drawn.Winners)
	wrongWinner.Winners[0].ParticipantID = uuid.New()
	tests := []struct {
		name  string
		drawn domain.WinnersDrawn
		cands []domain.Candidate
		want  []string
	}{
		{"swapped_alternates", swapped, cands, []string{"alternates"}},
		{"forged_winner", wrongWinner, cands, []string{"winners"}},
		{"a_candidate_gone", drawn, cands[1:], []string{"candidateCount", "candidatesRoot", "winners", "alternates", "leafIndices"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := domain.VerifyDrawV2(commit, tt.drawn, candidateSet(tt.cands))
			if err != nil {
				t.Fatal(err)
			}
			if v.Verified || !slices.Equal(v.Mismatches, tt.want) {
				t.Errorf("verify = %v %v, want mismatches %v", v.Verified, v.Mismatches, tt.want)
			}
		})
	}
	if _, err := domain.CompleteDraw(commit, mustLeaves(t, cands[1:], req.DrawID), domain.DrawCompletion{Seed: seed}); !errors.Is(err, domain.ErrLeavesMismatch) {
		t.Errorf("completion over other leaves: %v, want ErrLeavesMismatch", err)
	}
}

func mustLeaves(t *testing.T, cands []domain.Candidate, drawID uuid.UUID) domain.DrawLeaves {
	t.Helper()
	l, err := domain.LeavesOf(candidateSet(cands), drawID, 2)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCommitDrawRefuses(t *testing.T) {
	t.Parallel()
	c := openCampaign(t)
	drawn, err := c.Apply(domain.DrawCommitted{EventID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	cands := randomCandidates(t, 5, 2, 37)
	tests := []struct {
		name     string
		campaign domain.Campaign
		edit     func(*domain.DrawCommitRequest)
		wantErr  error
	}{
		{"other_owner", c, func(r *domain.DrawCommitRequest) { r.CommittedBy = "owner-2" }, domain.ErrNotOwner},
		{"committed_campaign_before_the_count", drawn, func(r *domain.DrawCommitRequest) { r.Options.WinnerCount = 0 }, domain.ErrAlreadyDrawn},
		{"winners_plus_alternates_above_candidates", c, func(r *domain.DrawCommitRequest) { r.Options.AlternateCount = 3 }, domain.ErrInvalidWinnerCount},
		{"no_winner", c, func(r *domain.DrawCommitRequest) { r.Options = domain.DrawOptions{AlternateCount: 1} }, domain.ErrInvalidWinnerCount},
		{"negative_alternates", c, func(r *domain.DrawCommitRequest) { r.Options.AlternateCount = -1 }, domain.ErrInvalid},
		{"unknown_randomness", c, func(r *domain.DrawCommitRequest) { r.Randomness.Source = "dice" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := commitRequest()
			tt.edit(&r)
			_, _, err := tt.campaign.CommitDraw(r, candidateSet(cands))
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("error = %v, want %v (or any error when nil)", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyDrawV2ChecksADrandSeed(t *testing.T) {
	t.Parallel()
	c := openCampaign(t)
	cands := randomCandidates(t, 12, 3, 43)
	req := commitRequest()
	req.Randomness = domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: strings.Repeat("ab", 32), Round: 1000}
	commit, leaves, err := c.CommitDraw(req, candidateSet(cands))
	if err != nil {
		t.Fatal(err)
	}
	randomness := sha256.Sum256([]byte("round 1000"))
	root, _ := hex.DecodeString(commit.CandidatesRoot)
	beacon := &domain.DrawBeacon{Round: 1000, Signature: "00", Randomness: hex.EncodeToString(randomness[:])}
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{
		Seed: domain.BeaconSeed(randomness[:], [32]byte(root), commit.DrawID), Beacon: beacon, DrawnAt: t0, DrawnBy: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := domain.VerifyDrawV2(commit, drawn, candidateSet(cands)); err != nil || !v.Verified {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	// a seed of the operator's choosing, the order recomputed from it: the seed gives it away
	forged, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seedN(1), Beacon: beacon, DrawnAt: t0, DrawnBy: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	otherRound := drawn
	otherRound.Beacon = &domain.DrawBeacon{Round: 1001, Signature: "00", Randomness: beacon.Randomness}
	for name, d := range map[string]domain.WinnersDrawn{"forged_seed": forged, "another_round": otherRound} {
		v, err := domain.VerifyDrawV2(commit, d, candidateSet(cands))
		if err != nil {
			t.Fatal(err)
		}
		if v.Verified || !slices.Contains(v.Mismatches, "seed") {
			t.Errorf("%s: verified %v, mismatches %v; want a seed mismatch", name, v.Verified, v.Mismatches)
		}
	}
}
