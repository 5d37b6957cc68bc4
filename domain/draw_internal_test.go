package domain

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestUniformMatchesMathRandUint64N(t *testing.T) {
	t.Parallel()
	bounds := []uint64{1, 2, 3, 7, 10, 31, 1 << 20, 1_000_000, 10_000_001, 1<<32 + 1, math.MaxUint64/2 + 2, math.MaxUint64}
	for _, m := range bounds {
		seed := [32]byte{byte(m), byte(m >> 8), 'u'}
		ours, std := rand.NewChaCha8(seed), rand.New(rand.NewChaCha8(seed))
		for range 10_000 {
			if got, want := uniform(ours, m), std.Uint64N(m); got != want {
				t.Fatalf("uniform(%d) = %d, math/rand/v2 Uint64N = %d", m, got, want)
			}
		}
	}
}

// TestPackedAndGenericSortsAgree checks the fast path against the plain one.
func TestPackedAndGenericSortsAgree(t *testing.T) {
	t.Parallel()
	rng := rand.NewChaCha8([32]byte{'s', 'o', 'r', 't'})
	r := rand.New(rng)
	for _, n := range []int{1, 2, 100, 5000} {
		cands := make([]Candidate, n)
		for i := range cands {
			_, _ = rng.Read(cands[i].ParticipantID[:])
			e, err := NewEntryNumber(rng)
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && r.IntN(10) == 0 {
				e = cands[r.IntN(i)].EntryNumber // collisions
			}
			cands[i].EntryNumber = e
			cands[i].Visited = r.IntN(3) == 0
		}
		recs, ok := packCandidates(cands)
		if !ok {
			t.Fatal("canonical entry numbers were not packed")
		}
		pd, gd := newDigester(), newDigester()
		sortedRecs, packedRows, err := sortPacked(recs, pd)
		if err != nil {
			t.Fatal(err)
		}
		genericRows, err := sortGeneric(cands, gd)
		if err != nil {
			t.Fatal(err)
		}
		packedDigest, genericDigest := pd.sum(), gd.sum()
		if got, want := packedDigest, genericDigest; got != want {
			t.Errorf("n=%d: packed digest %s, generic %s", n, got, want)
		}
		packedOrder, genericOrder := make([]Candidate, n), make([]Candidate, n)
		for j := range n {
			packedOrder[j], genericOrder[j] = sortedRecs[packedRows[j].i].candidate(), cands[genericRows[j].i]
			if packedRows[j].visited != packedOrder[j].Visited || genericRows[j].visited != genericOrder[j].Visited {
				t.Fatalf("n=%d: row %d's visit flag is not its candidate's", n, j)
			}
		}
		if !slices.Equal(packedOrder, genericOrder) {
			t.Errorf("n=%d: packed and generic orders differ", n)
		}
		// v2's sort of the bare keys: the same order, rows indexing recs as added
		recs, _ = packCandidates(cands) // sortPacked may have sorted the first in place
		keys, keyRows, err := sortPackedKeys(recs)
		if err != nil {
			t.Fatal(err)
		}
		keyOrder := make([]Candidate, n)
		for j := range n {
			keyOrder[j] = recs[keyRows[j].i].candidate()
			if keyRows[j].visited != keyOrder[j].Visited || keys[j] != recs[keyRows[j].i].key {
				t.Fatalf("n=%d: key row %d is not its candidate's", n, j)
			}
		}
		if !slices.Equal(keyOrder, genericOrder) {
			t.Errorf("n=%d: key and generic orders differ", n)
		}
		if !slices.IsSortedFunc(genericRows, func(a, b row) int { return compareCandidates(cands[a.i], cands[b.i]) }) {
			t.Errorf("n=%d: generic order is not sorted", n)
		}
	}
}

func TestPackCandidatesFallsBack(t *testing.T) {
	t.Parallel()
	for _, e := range []string{"abcd-2345", "ABCD2345", "ABCD-23456", "ABC0-2345", "ABCD_2345"} {
		if _, ok := packCandidates([]Candidate{{ParticipantID: uuid.New(), EntryNumber: e}}); ok {
			t.Errorf("packCandidates(%q) ok, want the general sort", e)
		}
	}
}

// v2's key sort refuses a candidate twice, as v1's sorts do.
func TestSortPackedKeysRefusesACandidateTwice(t *testing.T) {
	t.Parallel()
	id, other := uuid.New(), uuid.New()
	recs, ok := packCandidates([]Candidate{{ParticipantID: id, EntryNumber: "AAAA-2222"}, {ParticipantID: other, EntryNumber: "AAAA-2222"},
		{ParticipantID: id, EntryNumber: "AAAA-2222"}})
	if !ok {
		t.Fatal("not packed")
	}
	if _, _, err := sortPackedKeys(recs); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("err = %v, want the candidate twice", err)
	}
}
