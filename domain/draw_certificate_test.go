package domain_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/shopevents/participation/domain"
)

func TestDrawInclusionProofVerifiesWithTheLibrary(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 5, 8, 13, 64, 100} {
		hashes, weights := make([][]byte, n), make([]uint32, n)
		tree := domain.NewMerkleTree()
		for i := range n {
			weights[i] = uint32(1 + i%2)
			leaf := domain.AppendDrawLeaf(nil, uuid.Nil, []byte("E"+strings.Repeat("x", i)), weights[i])
			hashes[i] = domain.DrawLeafHash(leaf)
			tree.AppendLeaf(leaf)
		}
		for i := range n {
			p, err := domain.DrawInclusionProof(hashes, weights, i)
			if err != nil {
				t.Fatal(err)
			}
			if p.Root != tree.RootHex() || p.TreeSize != n || p.LeafIndex != i || p.Weight != weights[i] {
				t.Fatalf("n=%d i=%d: %+v, root %s", n, i, p, tree.RootHex())
			}
			path := make([][]byte, len(p.AuditPath))
			for j, h := range p.AuditPath {
				path[j], _ = hex.DecodeString(h)
			}
			root, _ := hex.DecodeString(p.Root)
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(n), hashes[i], path, root); err != nil {
				t.Errorf("n=%d i=%d: %v", n, i, err)
			}
			// another leaf's hash does not verify on this path
			if n > 1 {
				if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(n), hashes[(i+1)%n], path, root); err == nil {
					t.Errorf("n=%d i=%d: leaf %d verified on leaf %d's path", n, i, (i+1)%n, i)
				}
			}
		}
	}
	if _, err := domain.DrawInclusionProof(make([][]byte, 2), make([]uint32, 2), 2); err == nil {
		t.Error("index 2 of 2 gave a proof")
	}
}

// publicDraw commits and completes a draw over 30 candidates with 3
// winners and 2 alternates, and returns its certificate and leaf lines.
func publicDraw(t *testing.T) (domain.DrawCertificate, []domain.DrawLeafLine, domain.DrawLeaves, domain.WinnersDrawn) {
	t.Helper()
	c := openCampaign(t)
	req := commitRequest()
	commit, leaves, err := c.CommitDraw(req, candidateSet(randomCandidates(t, 30, 4, 17)))
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seedN(9), DrawnAt: t0.Add(time.Second), DrawnBy: "owner-1"})
	if err != nil {
		t.Fatal(err)
	}
	cert := domain.DrawCertificate{
		DrawID: commit.DrawID, Algorithm: commit.Algorithm, State: domain.DrawStateDrawn,
		CommittedAt: commit.CommittedAt, CutoffPosition: commit.CutoffPosition,
		CandidateCount: commit.CandidateCount, CandidatesRoot: commit.CandidatesRoot,
		Randomness: commit.Randomness, WinnerCount: commit.WinnerCount, AlternateCount: commit.AlternateCount,
		DrawCertificateResult: &domain.DrawCertificateResult{Seed: drawn.Seed, Replacements: []domain.DrawReplacement{}},
	}
	for r, i := range drawn.WinnerLeaves {
		cert.Winners = append(cert.Winners, domain.DrawPick{Rank: r + 1, LeafIndex: i})
	}
	for r, i := range drawn.AlternateLeaves {
		cert.Alternates = append(cert.Alternates, domain.DrawPick{Rank: r + 1, LeafIndex: i})
	}
	lines := make([]domain.DrawLeafLine, leaves.Len())
	for i := range lines {
		leaf := domain.AppendDrawLeaf(nil, commit.DrawID, []byte(leaves.Candidate(i).EntryNumber), leaves.Weights[i])
		lines[i] = domain.DrawLeafLineOf(i, leaf, leaves.Weights[i])
	}
	return cert, lines, leaves, drawn
}

func TestWinnersDrawnNamesTheLeafIndices(t *testing.T) {
	t.Parallel()
	_, _, leaves, drawn := publicDraw(t)
	if len(drawn.WinnerLeaves) != 3 || len(drawn.AlternateLeaves) != 2 {
		t.Fatalf("leaves %v %v", drawn.WinnerLeaves, drawn.AlternateLeaves)
	}
	for r, i := range drawn.WinnerLeaves {
		if leaves.Candidate(i).EntryNumber != drawn.Winners[r].EntryNumber {
			t.Errorf("winner %d: leaf %d is %s, the winner %s", r+1, i, leaves.Candidate(i).EntryNumber, drawn.Winners[r].EntryNumber)
		}
	}
	for r, i := range drawn.AlternateLeaves {
		if leaves.Candidate(i).EntryNumber != drawn.Alternates[r].EntryNumber {
			t.Errorf("alternate %d: leaf %d is not the alternate", r+1, i)
		}
	}
}

func checkCertificate(cert domain.DrawCertificate, lines []domain.DrawLeafLine, beaconRandomness []byte) error {
	c, err := domain.NewCertificateChecker(cert)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := c.Add(l); err != nil {
			return err
		}
	}
	return c.Finish(beaconRandomness)
}

func TestCertificateCheckerFindsTampering(t *testing.T) {
	t.Parallel()
	cert, lines, _, _ := publicDraw(t)
	if err := checkCertificate(cert, lines, nil); err != nil {
		t.Fatalf("the honest certificate: %v", err)
	}
	clone := func() (domain.DrawCertificate, []domain.DrawLeafLine) {
		c := cert
		r := *cert.DrawCertificateResult
		r.Winners = append([]domain.DrawPick(nil), cert.Winners...)
		c.DrawCertificateResult = &r
		return c, append([]domain.DrawLeafLine(nil), lines...)
	}
	for name, tc := range map[string]struct {
		tamper func(*domain.DrawCertificate, *[]domain.DrawLeafLine)
		want   string
	}{
		"flipped weight": {func(_ *domain.DrawCertificate, l *[]domain.DrawLeafLine) { (*l)[4].Weight = 3 - (*l)[4].Weight }, "the draw gives leaf"},
		"dropped leaf": {func(_ *domain.DrawCertificate, l *[]domain.DrawLeafLine) {
			*l = (*l)[:len(*l)-1]
		}, "29 leaves"},
		"reindexed leaf": {func(_ *domain.DrawCertificate, l *[]domain.DrawLeafLine) { (*l)[2].Index = 7 }, "has index 7"},
		"swapped winner": {func(c *domain.DrawCertificate, _ *[]domain.DrawLeafLine) {
			c.Winners[0].LeafIndex, c.Winners[1].LeafIndex = c.Winners[1].LeafIndex, c.Winners[0].LeafIndex
		}, "winner rank 1"},
		"replaced leaf hash": {func(_ *domain.DrawCertificate, l *[]domain.DrawLeafLine) {
			(*l)[0].LeafHash = strings.Repeat("ab", 32)
		}, "root"},
		"replacement out of order": {func(c *domain.DrawCertificate, _ *[]domain.DrawLeafLine) {
			c.Replacements = []domain.DrawReplacement{{WinnerRank: 1, AlternateRank: 1}, {WinnerRank: 1, AlternateRank: 1}}
		}, "alternates go in order"},
		"drand without beacon": {func(c *domain.DrawCertificate, _ *[]domain.DrawLeafLine) {
			c.Randomness = domain.DrawRandomness{Source: domain.RandomnessDrand, Round: 5}
		}, "without its beacon"},
	} {
		c, l := clone()
		tc.tamper(&c, &l)
		err := checkCertificate(c, l, nil)
		if !errors.Is(err, domain.ErrCertificateMismatch) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a mismatch saying %q", name, err, tc.want)
		}
	}
	// a flipped weight alone leaves the root as published (the weight is
	// behind the hash) but moves the order: the check names the winner.
}

func TestCertificateCheckerDrandSeed(t *testing.T) {
	t.Parallel()
	cert, lines, _, _ := publicDraw(t)
	randomness := []byte(strings.Repeat("r", 32))
	root, _ := hex.DecodeString(cert.CandidatesRoot)
	seed := domain.BeaconSeed(randomness, [32]byte(root), cert.DrawID)
	// recompute the picks under the drand seed
	weights := make([]uint32, len(lines))
	for i, l := range lines {
		weights[i] = l.Weight
	}
	ws, as, err := domain.DrawOrder(weights, seed, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := *cert.DrawCertificateResult
	r.Seed, r.Winners, r.Alternates = hex.EncodeToString(seed[:]), nil, nil
	for k, i := range ws {
		r.Winners = append(r.Winners, domain.DrawPick{Rank: k + 1, LeafIndex: i})
	}
	for k, i := range as {
		r.Alternates = append(r.Alternates, domain.DrawPick{Rank: k + 1, LeafIndex: i})
	}
	cert.DrawCertificateResult = &r
	cert.Randomness = domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: "00", Round: 7}
	if err := checkCertificate(cert, lines, randomness); err != nil {
		t.Fatalf("the drand certificate: %v", err)
	}
	if err := checkCertificate(cert, lines, []byte(strings.Repeat("s", 32))); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("another round's randomness: %v", err)
	}
}
