package domain_test

import (
	"encoding/hex"
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// The v2 test vectors (testdata/draw_v2_vectors.json) are for anyone who
// reimplements the draw: the leaves, their RFC 6962 hashes and root, the
// seed and the expected order. The tiny vector also lists each step (the
// ChaCha8 output, the total weight, t and the leaf), to follow by hand.

type vectorEntry struct {
	EntryNumber string `json:"entryNumber"`
	Weight      uint32 `json:"weight"`
}

type vectorStep struct {
	Uint64 string `json:"chacha8Uint64"` // hex: the first value of the generator this step used
	Total  uint64 `json:"totalWeight"`
	T      uint64 `json:"t"`
	Leaf   int    `json:"leaf"`
}

type drawVector struct {
	Name           string        `json:"name"`
	DrawID         uuid.UUID     `json:"drawId"`
	Entries        []vectorEntry `json:"entries"` // in leaf order
	Leaves         []string      `json:"leaves,omitempty"`
	LeafHashes     []string      `json:"leafHashes,omitempty"`
	Root           string        `json:"candidatesRoot"`
	Seed           string        `json:"seed"`
	WinnerCount    int           `json:"winnerCount"`
	AlternateCount int           `json:"alternateCount"`
	Steps          []vectorStep  `json:"steps,omitempty"`
	Winners        []int         `json:"winnerLeaves"`
	Alternates     []int         `json:"alternateLeaves"`
}

type drawVectors struct {
	Algorithm string       `json:"algorithm"`
	Vectors   []drawVector `json:"vectors"`
}

// computeVector fills in what the code computes for v's inputs.
func computeVector(t *testing.T, v drawVector, withDetail bool) drawVector {
	t.Helper()
	tree := domain.NewMerkleTree()
	weights := make([]uint32, len(v.Entries))
	v.Leaves, v.LeafHashes = nil, nil
	for i, e := range v.Entries {
		leaf := domain.AppendDrawLeaf(nil, v.DrawID, []byte(e.EntryNumber), e.Weight)
		tree.AppendLeaf(leaf)
		weights[i] = e.Weight
		if withDetail {
			v.Leaves = append(v.Leaves, string(leaf))
			v.LeafHashes = append(v.LeafHashes, hex.EncodeToString(domain.DrawLeafHash(leaf)))
		}
	}
	v.Root = tree.RootHex()
	seed, err := domain.ParseSeed(v.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if v.Winners, v.Alternates, err = domain.DrawOrder(weights, seed, v.WinnerCount, v.AlternateCount); err != nil {
		t.Fatal(err)
	}
	v.Steps = nil
	if withDetail {
		v.Steps = handSteps(t, weights, seed, v.WinnerCount+v.AlternateCount)
	}
	return v
}

// handSteps walks the order the slow way, step by step; each step's first
// generator output is shown (Lemire's method may take more on a rejection).
func handSteps(t *testing.T, weights []uint32, seed [32]byte, k int) []vectorStep {
	t.Helper()
	rng := rand.NewChaCha8(seed)
	left := slices.Clone(weights)
	var steps []vectorStep
	for range k {
		var total uint64
		for _, w := range left {
			total += uint64(w)
		}
		u := rng.Uint64()
		var tv uint64
		if total&(total-1) == 0 {
			tv = u & (total - 1)
		} else {
			var lo uint64
			tv, lo = bits.Mul64(u, total)
			if lo < total && lo < -total%total {
				t.Fatal("the tiny vector hit a Lemire rejection: pick another seed")
			}
		}
		var c uint64
		leaf := -1
		for i, w := range left {
			if tv >= c && tv < c+uint64(w) {
				leaf = i
				break
			}
			c += uint64(w)
		}
		left[leaf] = 0
		steps = append(steps, vectorStep{Uint64: strings.ToLower(hex.EncodeToString(be64(u))), Total: total, T: tv, Leaf: leaf})
	}
	return steps
}

func be64(u uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(u >> (56 - 8*i))
	}
	return b
}

func vectorInputs(t *testing.T) []drawVector {
	t.Helper()
	tiny := drawVector{
		Name:   "tiny: three candidates, a visitor weighing 2, one winner and one alternate",
		DrawID: uuid.MustParse("00000000-0000-4000-8000-000000000001"),
		Entries: []vectorEntry{
			{EntryNumber: "AAAA-2222", Weight: 2}, {EntryNumber: "BBBB-3333", Weight: 1}, {EntryNumber: "CCCC-4444", Weight: 1},
		},
		Seed:        strings.Repeat("00", 32),
		WinnerCount: 1, AlternateCount: 1,
	}
	seed42 := seedN(42)
	fifty := drawVector{
		Name:        "fifty candidates, every third a visitor weighing 3, five winners and five alternates",
		DrawID:      uuid.MustParse("7d3c1a52-9b0e-4f6a-8c21-5e4d3b2a1f00"),
		Seed:        hex.EncodeToString(seed42[:]),
		WinnerCount: 5, AlternateCount: 5,
	}
	cands := randomCandidates(t, 50, 3, 'v')
	slices.SortFunc(cands, func(a, b domain.Candidate) int { return strings.Compare(a.EntryNumber, b.EntryNumber) })
	for _, c := range cands {
		w := uint32(1)
		if c.Visited {
			w = 3
		}
		fifty.Entries = append(fifty.Entries, vectorEntry{EntryNumber: c.EntryNumber, Weight: w})
	}
	// the same fifty through LeavesOf: the commit's leaves are the vector's
	leaves, err := domain.LeavesOf(candidateSet(cands), fifty.DrawID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := leaves.Root, computeVector(t, fifty, false).Root; got != want {
		t.Fatalf("LeavesOf root %s, vector root %s", got, want)
	}
	return []drawVector{tiny, fifty}
}

// TestDrawV2Vectors pins chacha8-weighted-merkle-v2: a change here breaks
// every recorded v2 draw, so it needs a new algorithm name, not -update.
func TestDrawV2Vectors(t *testing.T) {
	t.Parallel()
	got := drawVectors{Algorithm: domain.DrawAlgorithmMerkleV2}
	for i, v := range vectorInputs(t) {
		got.Vectors = append(got.Vectors, computeVector(t, v, i == 0))
	}
	path := filepath.Join("testdata", "draw_v2_vectors.json")
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
	var want drawVectors
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vectors differ from %s (-want +got):\n%s", path, diff)
	}
	// the hand steps agree with the order
	tiny := want.Vectors[0]
	var picked []int
	for _, s := range tiny.Steps {
		picked = append(picked, s.Leaf)
	}
	if !slices.Equal(picked, slices.Concat(tiny.Winners, tiny.Alternates)) {
		t.Errorf("tiny vector: steps pick %v, order is %v + %v", picked, tiny.Winners, tiny.Alternates)
	}
}
