package domain

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// DrawAlgorithmMerkleV2 is the draw of DrawCommitted + WinnersDrawn: the
// candidates committed by an RFC 6962 root (see AppendDrawLeaf), then
// DrawOrder over their weights from a seed taken after the commit.
const DrawAlgorithmMerkleV2 = "chacha8-weighted-merkle-v2"

// Randomness sources of a v2 draw.
const (
	RandomnessLocal = "local" // crypto/rand in the commit's transaction: the operator is trusted
	RandomnessDrand = "drand" // a drand round due after the commit
)

// MaxAlternateCount bounds alternateCount: more is a typo, not a plan.
const MaxAlternateCount = 10_000_000

// DrawLeaves is a v2 draw's candidates in leaf order (entry number, byte
// order) with their weights and the Merkle root over their leaves.
type DrawLeaves struct {
	sorted  sortedSet
	Weights []uint32
	Root    string // lower-case hex
}

// Len is the number of leaves.
func (l DrawLeaves) Len() int { return len(l.Weights) }

// Candidate returns leaf i's candidate.
func (l DrawLeaves) Candidate(i int) Candidate { return l.sorted.at(l.sorted.rows[i].i) }

// LeavesOf sorts set (in place) into draw drawID's leaves: a visitor weighs
// visitBonusWeight, every other candidate 1 (pass 1 without the bonus).
// It is the one definition of the leaves for commit, completion and verify.
func LeavesOf(set *CandidateSet, drawID uuid.UUID, visitBonusWeight int) (DrawLeaves, error) {
	if visitBonusWeight < 1 || visitBonusWeight > MaxVisitBonusWeight {
		return DrawLeaves{}, fmt.Errorf("draw: visit bonus weight %d", visitBonusWeight)
	}
	if set.Len() > math.MaxInt32 {
		return DrawLeaves{}, fmt.Errorf("draw: %d candidates is too many", set.Len())
	}
	sorted, err := set.sorted(false)
	if err != nil {
		return DrawLeaves{}, err
	}
	weights := make([]uint32, len(sorted.rows))
	for j, r := range sorted.rows {
		weights[j] = 1
		if r.visited {
			weights[j] = uint32(visitBonusWeight)
		}
	}
	root, err := hashLeavesInChunks(sorted, weights, drawID)
	if err != nil {
		return DrawLeaves{}, err
	}
	return DrawLeaves{sorted: sorted, Weights: weights, Root: hex.EncodeToString(root[:])}, nil
}

// leafChunk is the leaves hashed as one part: a power of two, so that each
// full part is a perfect subtree and the root over the parts' roots is the
// root over the leaves (every split of RFC 6962's tree above a part's size
// falls on a part's border).
const leafChunk = 1 << 16

// hashLeavesInChunks is the Merkle root of the leaves, the hashing (most of
// a big draw's commit) spread over the cores in parts of leafChunk leaves.
func hashLeavesInChunks(sorted sortedSet, weights []uint32, drawID uuid.UUID) ([32]byte, error) {
	n := len(weights)
	chunks := max((n+leafChunk-1)/leafChunk, 1)
	roots, errs := make([][32]byte, chunks), make([]error, chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), chunks) {
		wg.Go(func() {
			for c := int(next.Add(1) - 1); c < chunks; c = int(next.Add(1) - 1) {
				roots[c], errs[c] = hashLeaves(sorted, weights, drawID, c*leafChunk, min((c+1)*leafChunk, n))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return [32]byte{}, err
	}
	if chunks == 1 {
		return roots[0], nil
	}
	tree := NewMerkleTree()
	for _, r := range roots {
		tree.appendHash(r)
	}
	return [32]byte(tree.Root()), nil
}

// hashLeaves is the Merkle root of leaves [lo, hi).
func hashLeaves(sorted sortedSet, weights []uint32, drawID uuid.UUID, lo, hi int) ([32]byte, error) {
	tree := NewMerkleTree()
	// every leaf starts "{drawId}|": written once
	prefix := append(appendUUID(make([]byte, 0, 128), drawID), '|')
	buf, entryBuf := slices.Clone(prefix), make([]byte, 0, 64)
	if sorted.keys != nil {
		// packed entry numbers are canonical: nothing to check, and the
		// entry comes from the sorted key, not from the candidate's record
		var e [9]byte
		for j := lo; j < hi; j++ {
			keyEntry(sorted.keys[j], &e)
			buf = append(append(buf[:len(prefix)], e[:]...), '|')
			buf = strconv.AppendUint(buf, uint64(weights[j]), 10)
			tree.AppendLeaf(buf)
		}
		return [32]byte(tree.Root()), nil
	}
	for j := lo; j < hi; j++ {
		r := sorted.rows[j]
		entry := sorted.entry(entryBuf[:0], r.i)
		if !plainEntryNumber(entry) || slices.Contains(entry, '|') {
			return [32]byte{}, fmt.Errorf("draw: candidate at leaf %d has a malformed entry number %q", j, entry)
		}
		buf = append(append(buf[:len(prefix)], entry...), '|')
		buf = strconv.AppendUint(buf, uint64(weights[j]), 10)
		tree.AppendLeaf(buf)
	}
	return [32]byte(tree.Root()), nil
}

// DrawCommitRequest is what the owner's draw brings to CommitDraw.
type DrawCommitRequest struct {
	DrawID         uuid.UUID
	Options        DrawOptions // AlternateCount included
	CutoffPosition int64       // the global position the candidates were read up to
	Randomness     DrawRandomness
	CommittedAt    time.Time
	CommittedBy    string // the owner id
}

// CommitDraw decides the commit of campaign c's v2 draw among set, checking
// in this order: the owner (ErrNotOwner), a draw already there
// (ErrAlreadyDrawn), the options (*ValidationError), the counts
// (ErrInvalidWinnerCount: winners ≥ 1, winners + alternates ≤ candidates).
// The caller appends the event to DrawStream with "no stream" expected and
// keeps the leaves for CompleteDraw.
func (c Campaign) CommitDraw(req DrawCommitRequest, set *CandidateSet) (DrawCommitted, DrawLeaves, error) {
	if err := c.CheckOwner(req.CommittedBy); err != nil {
		return DrawCommitted{}, DrawLeaves{}, err
	}
	if c.Drawn {
		return DrawCommitted{}, DrawLeaves{}, ErrAlreadyDrawn
	}
	if req.DrawID == uuid.Nil {
		return DrawCommitted{}, DrawLeaves{}, errors.New("draw: nil draw id")
	}
	if src := req.Randomness.Source; src != RandomnessLocal && src != RandomnessDrand {
		return DrawCommitted{}, DrawLeaves{}, fmt.Errorf("draw: randomness source %q", src)
	}
	opts, err := req.Options.Normalize()
	if err != nil {
		return DrawCommitted{}, DrawLeaves{}, err
	}
	n, w, a := set.Len(), opts.WinnerCount, opts.AlternateCount
	if w < 1 || w > n || a > n-w {
		return DrawCommitted{}, DrawLeaves{}, fmt.Errorf("%w: %d winners and %d alternates among %d candidates", ErrInvalidWinnerCount, w, a, n)
	}
	leaves, err := LeavesOf(set, req.DrawID, opts.VisitBonusWeight)
	if err != nil {
		return DrawCommitted{}, DrawLeaves{}, err
	}
	return DrawCommitted{
		DrawID:           req.DrawID,
		EventID:          c.ID,
		Algorithm:        DrawAlgorithmMerkleV2,
		WinnerCount:      w,
		AlternateCount:   a,
		VisitBonus:       opts.VisitBonus,
		VisitBonusWeight: opts.VisitBonusWeight,
		CutoffPosition:   req.CutoffPosition,
		CandidateCount:   n,
		CandidatesRoot:   leaves.Root,
		Randomness:       req.Randomness,
		CommittedAt:      req.CommittedAt.UTC(),
		CommittedBy:      req.CommittedBy,
	}, leaves, nil
}

// DrawCompletion is the randomness and the moment that complete a commit.
type DrawCompletion struct {
	Seed    [32]byte
	Beacon  *DrawBeacon // the drand round the seed was derived from; nil for local
	DrawnAt time.Time
	DrawnBy string // the owner id, or who completed a pending draw
	// Participants names the picks of leaves read without participant ids
	// (CandidateSet.AddEntry), by entry number: those of DrawLeaves.Picks.
	Participants map[string]uuid.UUID
}

// ErrUnnamedPick is a draw's pick read without its participant id and not
// named by DrawCompletion.Participants.
var ErrUnnamedPick = errors.New("draw: a picked candidate has no participant id")

// ErrLeavesMismatch is CompleteDraw given leaves other than the committed ones.
var ErrLeavesMismatch = errors.New("draw: the candidates are not the committed ones")

// CompleteDraw draws commit's winners and alternates over its leaves (those
// of LeavesOf at the commit's cut-off: their count and root must match).
func CompleteDraw(commit DrawCommitted, leaves DrawLeaves, done DrawCompletion) (WinnersDrawn, error) {
	if commit.Algorithm != DrawAlgorithmMerkleV2 {
		return WinnersDrawn{}, fmt.Errorf("draw: algorithm %q is not %s", commit.Algorithm, DrawAlgorithmMerkleV2)
	}
	if leaves.Len() != commit.CandidateCount || leaves.Root != commit.CandidatesRoot {
		return WinnersDrawn{}, ErrLeavesMismatch
	}
	ws, as, wi, ai, err := leaves.draw(done.Seed, commit.WinnerCount, commit.AlternateCount)
	if err != nil {
		return WinnersDrawn{}, err
	}
	for _, picks := range [][]Winner{ws, as} {
		for i, p := range picks {
			if p.ParticipantID == uuid.Nil {
				picks[i].ParticipantID = done.Participants[p.EntryNumber]
			}
			if picks[i].ParticipantID == uuid.Nil {
				return WinnersDrawn{}, fmt.Errorf("%w: entry %s", ErrUnnamedPick, p.EntryNumber)
			}
		}
	}
	return WinnersDrawn{
		DrawID:           commit.DrawID,
		EventID:          commit.EventID,
		WinnerCount:      commit.WinnerCount,
		VisitBonus:       commit.VisitBonus,
		VisitBonusWeight: commit.VisitBonusWeight,
		Algorithm:        commit.Algorithm,
		Seed:             hex.EncodeToString(done.Seed[:]),
		Beacon:           done.Beacon,
		CandidateCount:   commit.CandidateCount,
		CutoffPosition:   commit.CutoffPosition,
		Winners:          ws,
		Alternates:       as,
		WinnerLeaves:     wi,
		AlternateLeaves:  ai,
		DrawnAt:          done.DrawnAt.UTC(),
		DrawnBy:          done.DrawnBy,
	}, nil
}

// Picks is the entry numbers the seed picks, winners then alternates in
// rank order: what DrawCompletion.Participants must name when the leaves
// were read without participant ids.
func (l DrawLeaves) Picks(seed [32]byte, winners, alternates int) ([]string, error) {
	ws, as, _, _, err := l.draw(seed, winners, alternates)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ws)+len(as))
	for _, w := range slices.Concat(ws, as) {
		out = append(out, w.EntryNumber)
	}
	return out, nil
}

// draw runs DrawOrder over the leaves and names the picked candidates
// (and gives their leaf indices).
func (l DrawLeaves) draw(seed [32]byte, winners, alternates int) (ws, as []Winner, wi, ai []int, err error) {
	wi, ai, err = DrawOrder(l.Weights, seed, winners, alternates)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	named := func(idx []int) []Winner {
		out := make([]Winner, len(idx))
		for r, i := range idx {
			c := l.Candidate(i)
			out[r] = Winner{ParticipantID: c.ParticipantID, EntryNumber: c.EntryNumber, Rank: r + 1}
		}
		return out
	}
	return named(wi), named(ai), wi, ai, nil
}

// VerifyDrawV2 recomputes a v2 draw from its commit, its result and the
// candidates read again up to the commit's cut-off: the leaves and their
// root, then the order from the recorded seed. Mismatches name the fields
// not reproduced ("candidateCount", "candidatesRoot", "winners",
// "alternates", ...). A drand draw's seed must be BeaconSeed of its beacon
// (the committed round) and committed root ("seed"); the beacon's BLS
// signature is the beacon package's to check, not this one's.
func VerifyDrawV2(commit DrawCommitted, drawn WinnersDrawn, set *CandidateSet) (DrawVerification, error) {
	seed, err := ParseSeed(drawn.Seed)
	if err != nil {
		return DrawVerification{}, err
	}
	var m []string
	if drawn.DrawID != commit.DrawID || drawn.EventID != commit.EventID {
		m = append(m, "drawId")
	}
	if commit.Algorithm != DrawAlgorithmMerkleV2 || drawn.Algorithm != commit.Algorithm {
		m = append(m, "algorithm")
	}
	if commit.Randomness.Source == RandomnessDrand && !beaconSeeds(commit, drawn, seed) {
		m = append(m, "seed")
	}
	leaves, err := LeavesOf(set, commit.DrawID, commit.VisitBonusWeight)
	if err != nil {
		return DrawVerification{}, err
	}
	res := DrawResult{
		Algorithm:      DrawAlgorithmMerkleV2,
		Options:        DrawOptions{WinnerCount: commit.WinnerCount, AlternateCount: commit.AlternateCount, VisitBonus: commit.VisitBonus, VisitBonusWeight: commit.VisitBonusWeight},
		CandidateCount: leaves.Len(),
		CandidatesRoot: leaves.Root,
	}
	if res.CandidateCount != commit.CandidateCount {
		m = append(m, "candidateCount")
	}
	if res.CandidatesRoot != commit.CandidatesRoot {
		m = append(m, "candidatesRoot")
	}
	ws, as, wi, ai, err := leaves.draw(seed, commit.WinnerCount, commit.AlternateCount)
	switch {
	case errors.Is(err, ErrInvalidWinnerCount): // fewer candidates than recorded picks
		return DrawVerification{Mismatches: append(m, "candidateCount")}, nil
	case err != nil:
		return DrawVerification{}, err
	}
	res.Winners, res.Alternates = ws, as
	if !slices.Equal(ws, drawn.Winners) {
		m = append(m, "winners")
	}
	if !slices.Equal(as, drawn.Alternates) {
		m = append(m, "alternates")
	}
	// the leaf indices the certificate shows (absent only from results
	// recorded before they were)
	if drawn.WinnerLeaves != nil && (!slices.Equal(wi, drawn.WinnerLeaves) || !slices.Equal(ai, drawn.AlternateLeaves)) {
		m = append(m, "leafIndices")
	}
	return DrawVerification{Verified: len(m) == 0, Mismatches: m, Recomputed: res}, nil
}

// beaconSeeds reports whether a drand draw's seed is the one its beacon, of
// the round the commit named, derives for the committed root.
func beaconSeeds(commit DrawCommitted, drawn WinnersDrawn, seed [32]byte) bool {
	if drawn.Beacon == nil || drawn.Beacon.Round != commit.Randomness.Round {
		return false
	}
	randomness, err1 := hex.DecodeString(drawn.Beacon.Randomness)
	root, err2 := hex.DecodeString(commit.CandidatesRoot)
	if err1 != nil || err2 != nil || len(root) != 32 {
		return false
	}
	return BeaconSeed(randomness, [32]byte(root), commit.DrawID) == seed
}
