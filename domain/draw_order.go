package domain

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// DrawOrder is the v2 draw's order (chacha8-weighted-merkle-v2), a pure
// function of the leaves' weights (in leaf order), the seed and the counts,
// so that anyone holding the certificate's leaves can recompute it:
//
//	rng := ChaCha8(seed)                     // math/rand/v2, the C2SP chacha8rand stream
//	for j := 0; j < winners+alternates; j++ {
//	    T := sum of the remaining leaves' weights
//	    t := uniform(rng, T)                 // Lemire, exactly math/rand/v2's Uint64N
//	    pick the remaining leaf, in index order, whose cumulative interval [c, c+w) holds t
//	    remove it
//	}
//
// The first winners picks are the winners (ranks 1..winners), the next
// alternates the alternates (ranks 1..alternates). A Fenwick tree over the
// weights makes each pick O(log n): a million leaves drawn in full stay fast.
// Counts outside winners ≥ 0, alternates ≥ 0, winners+alternates ≤ n are
// ErrInvalidWinnerCount; a weight of 0 is an error (it could never be drawn).
func DrawOrder(weights []uint32, seed [32]byte, winners, alternates int) (winnerLeaves, alternateLeaves []int, err error) {
	n := len(weights)
	if winners < 0 || alternates < 0 || winners > n || alternates > n-winners {
		return nil, nil, fmt.Errorf("%w: %d winners and %d alternates among %d candidates", ErrInvalidWinnerCount, winners, alternates, n)
	}
	f, err := newFenwick(weights)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.NewChaCha8(seed)
	order := make([]int, winners+alternates)
	for j := range order {
		i := f.find(uniform(rng, f.total))
		f.remove(i, uint64(weights[i]))
		order[j] = i
	}
	return order[:winners:winners], order[winners:], nil
}

// fenwick is a binary indexed tree of the remaining weights: tree[i] (1-based)
// sums the weights of leaves (i - lowbit(i), i].
type fenwick struct {
	tree  []uint64
	total uint64
	top   int // the highest power of two ≤ n
}

// newFenwick builds the tree in O(n).
func newFenwick(weights []uint32) (*fenwick, error) {
	n := len(weights)
	f := &fenwick{tree: make([]uint64, n+1)}
	for i, w := range weights {
		if w == 0 {
			return nil, fmt.Errorf("draw: leaf %d weighs 0", i)
		}
		f.total += uint64(w)
		f.tree[i+1] += uint64(w)
		if j := (i + 1) + (i+1)&-(i+1); j <= n {
			f.tree[j] += f.tree[i+1]
		}
	}
	if n > 0 {
		f.top = 1 << (bits.Len(uint(n)) - 1)
	}
	return f, nil
}

// find returns the leaf whose cumulative interval holds t < total: the
// greatest prefix whose sum is ≤ t ends just before it. A removed leaf has
// an empty interval, so it is never found.
func (f *fenwick) find(t uint64) int {
	pos := 0
	for step := f.top; step > 0; step >>= 1 {
		if next := pos + step; next < len(f.tree) && f.tree[next] <= t {
			pos = next
			t -= f.tree[next]
		}
	}
	return pos
}

// remove takes leaf i's weight w out of the tree.
func (f *fenwick) remove(i int, w uint64) {
	for j := i + 1; j < len(f.tree); j += j & -j {
		f.tree[j] -= w
	}
	f.total -= w
}
