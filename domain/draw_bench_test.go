package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// randomCandidates makes n candidates in random order from a fixed seed;
// every visitEvery-th one (0: none) has visited the store.
func randomCandidates(tb testing.TB, n, visitEvery int, seed byte) []domain.Candidate {
	tb.Helper()
	rng := rand.NewChaCha8([32]byte{seed})
	cands := make([]domain.Candidate, n)
	for i := range cands {
		var id uuid.UUID
		_, _ = rng.Read(id[:])
		id[6] = id[6]&0x0f | 0x40 // a version 4 UUID
		id[8] = id[8]&0x3f | 0x80
		entry, err := domain.NewEntryNumber(rng)
		if err != nil {
			tb.Fatal(err)
		}
		cands[i] = domain.Candidate{ParticipantID: id, EntryNumber: entry, Visited: visitEvery > 0 && i%visitEvery == 0}
	}
	return cands
}

func BenchmarkDraw(b *testing.B) {
	cands := randomCandidates(b, 1_000_000, 3, 1)
	for _, k := range []int{100, 10_000} {
		for _, bonus := range []bool{false, true} {
			b.Run(fmt.Sprintf("candidates=1000000/k=%d/bonus=%t", k, bonus), func(b *testing.B) {
				opts := domain.DrawOptions{WinnerCount: k, VisitBonus: bonus}
				for i := 0; b.Loop(); i++ {
					if _, err := domain.Draw(cands, [32]byte{byte(i)}, opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDrawV2 is a v2 draw's work over a million candidates: the leaves
// sorted and hashed into the Merkle root (CommitDraw), then the order.
func BenchmarkDrawV2(b *testing.B) {
	cands := randomCandidates(b, 1_000_000, 3, 1)
	drawID := uuid.MustParse("d0000000-0000-4000-8000-000000000009")
	for _, k := range []int{100, 1_000_000} {
		b.Run(fmt.Sprintf("candidates=1000000/picks=%d", k), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				set := domain.NewCandidateSet(len(cands))
				for _, c := range cands {
					set.Add(c.ParticipantID, []byte(c.EntryNumber), c.Visited)
				}
				leaves, err := domain.LeavesOf(set, drawID, 2)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := domain.DrawOrder(leaves.Weights, [32]byte{byte(i)}, k/2, k/2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
