package domain_test

import (
	"slices"
	"testing"

	"github.com/shopevents/participation/domain"
)

// The v2 statistics: fixed seeds, so deterministic (see TestDrawIsUniform).
func TestDrawOrderIsUniform(t *testing.T) {
	t.Parallel()
	const (
		draws    = 20_000
		critical = 27.88 // chi-square, 9 degrees of freedom, 99.9%
	)
	weights := slices.Repeat([]uint32{1}, 10)
	byRank := make([][]int, 4) // 2 winners, then 2 alternates
	for r := range byRank {
		byRank[r] = make([]int, len(weights))
	}
	for i := range draws {
		ws, as, err := domain.DrawOrder(weights, seedN(i), 2, 2)
		if err != nil {
			t.Fatal(err)
		}
		for r, leaf := range slices.Concat(ws, as) {
			byRank[r][leaf]++
		}
	}
	for r, counts := range byRank {
		if chi2 := chiSquare(counts, uniformExpectation(len(weights), draws)); chi2 > critical {
			t.Errorf("pick %d: chi-square = %.2f, want below %.2f; counts %v", r+1, chi2, critical, counts)
		}
	}
}

func TestDrawOrderVisitBonus(t *testing.T) {
	t.Parallel()
	const draws = 30_000
	// 50 visitors weighing 2, 50 others: visitors win twice as often each
	weights := make([]uint32, 100)
	for i := range weights {
		weights[i] = uint32(1 + i%2)
	}
	var visitorWins, otherWins int
	for i := range draws {
		ws, _, err := domain.DrawOrder(weights, seedN(i), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if weights[ws[0]] == 2 {
			visitorWins++
		} else {
			otherWins++
		}
	}
	if got, want := float64(visitorWins)/float64(otherWins), 2.0; got < want-0.1 || got > want+0.1 {
		t.Errorf("visitor/other wins = %.3f, want %.1f ± 0.1", got, want)
	}
	// A weighs 2, B and C 1; P(first, second) = w₁/4 · w₂/(4-w₁) without replacement
	pairs := []string{"AB", "AC", "BA", "BC", "CA", "CB"}
	p := []float64{1.0 / 4, 1.0 / 4, 1.0 / 6, 1.0 / 12, 1.0 / 6, 1.0 / 12}
	counts := make([]int, len(pairs))
	for i := range draws {
		ws, as, err := domain.DrawOrder([]uint32{2, 1, 1}, seedN(i), 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		counts[slices.Index(pairs, string(rune('A'+ws[0]))+string(rune('A'+as[0])))]++
	}
	expected := make([]float64, len(p))
	for i := range p {
		expected[i] = p[i] * draws
	}
	if chi2, critical := chiSquare(counts, expected), 20.52; chi2 > critical { // 5 degrees of freedom, 99.9%
		t.Errorf("chi-square = %.2f, want below %.2f; counts %v for %v", chi2, critical, counts, pairs)
	}
}
