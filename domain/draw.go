package domain

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Draw algorithms, recorded in WinnersDrawn.algorithm. A recorded algorithm
// is never changed: a new one gets a new name.
const (
	// DrawAlgorithm: partial Fisher–Yates over the candidates sorted by
	// entry number; each index is drawn with uniform() from ChaCha8(seed).
	DrawAlgorithm = "chacha8-fisher-yates-v1"
	// DrawAlgorithmWeighted: sampling without replacement where each
	// remaining visitor holds visitBonusWeight tickets and every other
	// candidate one; one ticket is drawn uniformly per winner.
	DrawAlgorithmWeighted = "chacha8-weighted-v1"
)

// Visit bonus weights.
const (
	DefaultVisitBonusWeight = 2
	MaxVisitBonusWeight     = 10
)

// Candidate is one participant taking part in a draw.
type Candidate struct {
	ParticipantID uuid.UUID
	EntryNumber   string
	Visited       bool
}

// DrawOptions are the owner's choices for a draw.
type DrawOptions struct {
	WinnerCount      int
	AlternateCount   int // v2 only: drawn after the winners, ranks 1..AlternateCount
	VisitBonus       bool
	VisitBonusWeight int // 0 means the default: 2 with the bonus
}

// Normalize validates the visit bonus weight and fills in its default. A
// weight, when given, must be 1–10 (a *ValidationError on visitBonusWeight).
// Without the bonus every candidate weighs 1, and the weight becomes 1.
// WinnerCount is checked by Draw, against the candidates.
func (o DrawOptions) Normalize() (DrawOptions, error) {
	if o.AlternateCount < 0 || o.AlternateCount > MaxAlternateCount {
		return o, invalid("alternateCount", fmt.Sprintf("The alternate count must be 0 to %d.", MaxAlternateCount))
	}
	if o.VisitBonusWeight != 0 && (o.VisitBonusWeight < 1 || o.VisitBonusWeight > MaxVisitBonusWeight) {
		return o, invalid("visitBonusWeight", fmt.Sprintf("The visit bonus weight must be 1 to %d.", MaxVisitBonusWeight))
	}
	switch {
	case !o.VisitBonus:
		o.VisitBonusWeight = 1
	case o.VisitBonusWeight == 0:
		o.VisitBonusWeight = DefaultVisitBonusWeight
	}
	return o, nil
}

// DrawResult is the outcome of Draw.
type DrawResult struct {
	Winners          []Winner
	Algorithm        string
	Options          DrawOptions // normalized
	CandidateCount   int
	CandidatesDigest string // v1
	CandidatesRoot   string // v2
	Alternates       []Winner
}

// Draw picks opts.WinnerCount distinct winners among candidates. It is a
// pure, deterministic function of (the set of candidates, seed, opts): the
// input order does not matter, and calling it again with what WinnersDrawn
// recorded recomputes the same winners (see VerifyDraw).
//
//  1. The candidates are sorted by entry number (then participant id).
//  2. CandidatesDigest is the lower-case hex SHA-256 of the sorted
//     candidates' lines "participantId,entryNumber,visited\n", with the
//     canonical UUID form and visited as true or false.
//  3. A ChaCha8 generator (math/rand/v2, the C2SP chacha8rand stream) is
//     seeded with seed; an index below m is drawn without bias by Lemire's
//     multiply-and-reject method, exactly as math/rand/v2's Uint64N.
//  4. Without the visit bonus (DrawAlgorithm), step i = 0..k-1 swaps
//     position i with i+uniform(n-i) and position i wins rank i+1.
//     With it (DrawAlgorithmWeighted) the sorted candidates are split,
//     keeping their order, into visitors and others; each step draws
//     t = uniform(w·V + N) over the remaining V visitors and N others: if
//     t < w·V the visitor at remaining index t/w wins, else the other at
//     t-w·V; the winner is swapped to the front of its class.
//
// A WinnerCount outside 1..len(candidates) is ErrInvalidWinnerCount; a bad
// visit bonus weight is a *ValidationError.
func Draw(candidates []Candidate, seed [32]byte, opts DrawOptions) (DrawResult, error) {
	return DrawSet(candidateSetOf(candidates), seed, opts)
}

// DrawSet is Draw over a CandidateSet: the same draw, the same result. It
// sorts the set in place.
func DrawSet(set *CandidateSet, seed [32]byte, opts DrawOptions) (DrawResult, error) {
	opts, err := opts.Normalize()
	if err != nil {
		return DrawResult{}, err
	}
	n, k := set.Len(), opts.WinnerCount
	if k < 1 || k > n {
		return DrawResult{}, fmt.Errorf("%w: %d winners among %d candidates", ErrInvalidWinnerCount, k, n)
	}
	if n > math.MaxInt32 {
		return DrawResult{}, fmt.Errorf("draw: %d candidates is too many", n)
	}
	sorted, err := set.sorted(true)
	if err != nil {
		return DrawResult{}, err
	}
	rows, digest, at := sorted.rows, sorted.digest, sorted.at
	rng := rand.NewChaCha8(seed)
	res := DrawResult{Options: opts, CandidateCount: n, CandidatesDigest: digest, Winners: make([]Winner, k)}
	win := func(rank int, i int32) {
		c := at(i)
		res.Winners[rank] = Winner{ParticipantID: c.ParticipantID, EntryNumber: c.EntryNumber, Rank: rank + 1}
	}
	if opts.VisitBonus {
		res.Algorithm = DrawAlgorithmWeighted
		drawWeighted(rows, rng, uint64(opts.VisitBonusWeight), k, win)
	} else {
		res.Algorithm = DrawAlgorithm
		for i := range k {
			j := i + int(uniform(rng, uint64(n-i)))
			rows[i], rows[j] = rows[j], rows[i]
			win(i, rows[i].i)
		}
	}
	return res, nil
}

// drawWeighted splits the sorted rows, keeping their order, into visitors
// and others, then draws k winners by tickets; a class's winners move to the
// front of its part.
func drawWeighted(rows []row, rng *rand.ChaCha8, w uint64, k int, win func(int, int32)) {
	var v int
	for _, r := range rows {
		if r.visited {
			v++
		}
	}
	parts := make([]int32, len(rows))
	vi, oi := 0, v
	for _, r := range rows {
		if r.visited {
			parts[vi] = r.i
			vi++
		} else {
			parts[oi] = r.i
			oi++
		}
	}
	visitors, others := parts[:v], parts[v:]
	var vTaken, oTaken int
	for r := range k {
		vLeft, oLeft := uint64(len(visitors)-vTaken), uint64(len(others)-oTaken)
		t := uniform(rng, w*vLeft+oLeft)
		if t < w*vLeft {
			j := vTaken + int(t/w)
			visitors[vTaken], visitors[j] = visitors[j], visitors[vTaken]
			win(r, visitors[vTaken])
			vTaken++
		} else {
			j := oTaken + int(t-w*vLeft)
			others[oTaken], others[j] = others[j], others[oTaken]
			win(r, others[oTaken])
			oTaken++
		}
	}
}

// uniform returns an unbiased value in [0, m), m > 0: Lemire's method, the
// same values as math/rand/v2's Rand.Uint64N on the same source. It is
// written out here so that the draw algorithm is defined by this package.
func uniform(src *rand.ChaCha8, m uint64) uint64 {
	if m&(m-1) == 0 {
		return src.Uint64() & (m - 1)
	}
	hi, lo := bits.Mul64(src.Uint64(), m)
	if lo < m {
		thresh := -m % m
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), m)
		}
	}
	return hi
}

// ParseSeed decodes WinnersDrawn.seed: 64 hex digits.
func ParseSeed(s string) ([32]byte, error) {
	var seed [32]byte
	if len(s) != hex.EncodedLen(len(seed)) {
		return seed, fmt.Errorf("seed: want %d hex digits, got %d", hex.EncodedLen(len(seed)), len(s))
	}
	if _, err := hex.Decode(seed[:], []byte(s)); err != nil {
		return seed, fmt.Errorf("seed: %w", err)
	}
	return seed, nil
}

// DrawRequest is what the owner's draw command brings to DrawWinners.
type DrawRequest struct {
	DrawID         uuid.UUID
	Options        DrawOptions
	Seed           [32]byte // from crypto/rand
	CutoffPosition int64    // the global position the candidates were read up to
	DrawnAt        time.Time
	DrawnBy        string // the owner id
}

// DrawWinners decides campaign c's draw among candidates, checking in this
// order: the owner (ErrNotOwner), a finished draw (ErrAlreadyDrawn, before
// the count, since a draw is final), the options (*ValidationError) and the
// winner count (ErrInvalidWinnerCount). The caller appends the event to
// DrawStream with "no stream" expected and maps a conflict to
// ErrAlreadyDrawn.
func (c Campaign) DrawWinners(req DrawRequest, candidates []Candidate) (WinnersDrawn, error) {
	return c.DrawWinnersAmong(req, candidateSetOf(candidates))
}

// DrawWinnersAmong is DrawWinners over a CandidateSet (see DrawSet).
func (c Campaign) DrawWinnersAmong(req DrawRequest, set *CandidateSet) (WinnersDrawn, error) {
	if err := c.CheckOwner(req.DrawnBy); err != nil {
		return WinnersDrawn{}, err
	}
	if c.Drawn {
		return WinnersDrawn{}, ErrAlreadyDrawn
	}
	if req.DrawID == uuid.Nil {
		return WinnersDrawn{}, errors.New("draw: nil draw id")
	}
	res, err := DrawSet(set, req.Seed, req.Options)
	if err != nil {
		return WinnersDrawn{}, err
	}
	return WinnersDrawn{
		DrawID:           req.DrawID,
		EventID:          c.ID,
		WinnerCount:      res.Options.WinnerCount,
		VisitBonus:       res.Options.VisitBonus,
		VisitBonusWeight: res.Options.VisitBonusWeight,
		Algorithm:        res.Algorithm,
		Seed:             hex.EncodeToString(req.Seed[:]),
		CandidateCount:   res.CandidateCount,
		CandidatesDigest: res.CandidatesDigest,
		CutoffPosition:   req.CutoffPosition,
		Winners:          res.Winners,
		DrawnAt:          req.DrawnAt.UTC(),
		DrawnBy:          req.DrawnBy,
	}, nil
}

// DrawVerification is the outcome of VerifyDraw.
type DrawVerification struct {
	Verified bool
	// Mismatches names the WinnersDrawn fields that the recomputation did
	// not reproduce, e.g. "candidatesDigest" or "winners".
	Mismatches []string
	Recomputed DrawResult // zero when the draw could not run again
}

// VerifyDraw recomputes a recorded draw from its seed, options and the
// candidates read again up to its cutoffPosition. Draw is deterministic, so
// an untampered draw over the same candidates always verifies. An error
// means the record or the candidates are unreadable (a malformed seed, a
// malformed or duplicated candidate).
func VerifyDraw(d WinnersDrawn, candidates []Candidate) (DrawVerification, error) {
	seed, err := ParseSeed(d.Seed)
	if err != nil {
		return DrawVerification{}, err
	}
	opts := DrawOptions{WinnerCount: d.WinnerCount, VisitBonus: d.VisitBonus, VisitBonusWeight: d.VisitBonusWeight}
	res, err := Draw(candidates, seed, opts)
	switch {
	case errors.Is(err, ErrInvalidWinnerCount): // fewer candidates than recorded winners
		return DrawVerification{Mismatches: []string{"candidateCount"}}, nil
	case errors.Is(err, ErrInvalid):
		return DrawVerification{Mismatches: []string{"visitBonusWeight"}}, nil
	case err != nil:
		return DrawVerification{}, err
	}
	var m []string
	if res.Algorithm != d.Algorithm {
		m = append(m, "algorithm")
	}
	if res.CandidateCount != d.CandidateCount {
		m = append(m, "candidateCount")
	}
	if res.CandidatesDigest != d.CandidatesDigest {
		m = append(m, "candidatesDigest")
	}
	if !slices.Equal(res.Winners, d.Winners) {
		m = append(m, "winners")
	}
	return DrawVerification{Verified: len(m) == 0, Mismatches: m, Recomputed: res}, nil
}
