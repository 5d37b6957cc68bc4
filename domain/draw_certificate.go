package domain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Draw certificate states.
const (
	DrawStateCommitted = "COMMITTED"
	DrawStateDrawn     = "DRAWN"
)

// DrawCertificate is a draw's public certificate: what anyone may check,
// and no name, phone, entry number or participant id. The result part is
// there from the campaign's announceAt on.
type DrawCertificate struct {
	DrawID         uuid.UUID      `json:"drawId"`
	Algorithm      string         `json:"algorithm"`
	State          string         `json:"state"`
	CommittedAt    time.Time      `json:"committedAt"`
	CutoffPosition int64          `json:"cutoffPosition"`
	CandidateCount int            `json:"candidateCount"`
	CandidatesRoot string         `json:"candidatesRoot,omitempty"`   // v2: RFC 6962 root, hex
	Digest         string         `json:"candidatesDigest,omitempty"` // v1: SHA-256 of the candidates, hex
	Randomness     DrawRandomness `json:"randomness"`
	WinnerCount    int            `json:"winnerCount"`
	AlternateCount int            `json:"alternateCount"`
	*DrawCertificateResult
}

// DrawCertificateResult is the certificate's part that is public from
// announceAt on: the seed, where it came from, and the picks by leaf index.
type DrawCertificateResult struct {
	Seed         string             `json:"seed"`
	Beacon       *CertificateBeacon `json:"beacon"` // null for local randomness
	Winners      []DrawPick         `json:"winners"`
	Alternates   []DrawPick         `json:"alternates"`
	Replacements []DrawReplacement  `json:"replacements"`
}

// DrawPick is a winner or an alternate by rank and leaf index.
type DrawPick struct {
	Rank      int `json:"rank"`
	LeafIndex int `json:"leafIndex"`
}

// DrawReplacement is a winner's place taken by an alternate (WinnerReplaced
// without who). Alternates are taken in their order, an erased one passed
// over: each replacement's alternate rank is above the one before, and a
// rank skipped is an alternate erased before (the store's verify checks
// that; the public sees the order).
type DrawReplacement struct {
	WinnerRank    int       `json:"winnerRank"`
	AlternateRank int       `json:"alternateRank"`
	Reason        string    `json:"reason"`
	ReplacedAt    time.Time `json:"replacedAt"`
}

// CertificateBeacon is the drand round a seed came from, with the chain's
// info so that its signature is checked offline.
type CertificateBeacon struct {
	Round             uint64          `json:"round"`
	Signature         string          `json:"signature"`
	PreviousSignature string          `json:"previousSignature,omitempty"` // chained schemes
	Randomness        string          `json:"randomness"`
	ChainInfo         json.RawMessage `json:"chainInfo,omitempty"`
}

// DrawLeafLine is one line of the certificate's leaves: leaf index in tree
// order, its RFC 6962 leaf hash (hex) and its weight.
type DrawLeafLine struct {
	Index    int    `json:"index"`
	LeafHash string `json:"leafHash"`
	Weight   uint32 `json:"weight"`
}

// DrawLeafLineOf is leaf index's line from its leaf bytes.
func DrawLeafLineOf(index int, leaf []byte, weight uint32) DrawLeafLine {
	return DrawLeafLine{Index: index, LeafHash: hex.EncodeToString(DrawLeafHash(leaf)), Weight: weight}
}

// ErrCertificateMismatch is a certificate its leaves or its seed do not bear out.
var ErrCertificateMismatch = errors.New("certificate mismatch")

// CertificateChecker checks a v2 certificate against its leaves, fed in
// order to Add: the tree is rebuilt in O(log n) memory, the weights kept
// for the order (4 bytes a leaf).
type CertificateChecker struct {
	cert    DrawCertificate
	tree    *MerkleTree
	weights []uint32
}

// NewCertificateChecker starts checking cert, which must be a v2 result.
func NewCertificateChecker(cert DrawCertificate) (*CertificateChecker, error) {
	if cert.Algorithm != DrawAlgorithmMerkleV2 {
		return nil, fmt.Errorf("%w: algorithm %q has no public leaves (only %s)", ErrCertificateMismatch, cert.Algorithm, DrawAlgorithmMerkleV2)
	}
	if cert.DrawCertificateResult == nil || cert.State != DrawStateDrawn {
		return nil, fmt.Errorf("%w: the certificate has no result yet (state %s)", ErrCertificateMismatch, cert.State)
	}
	return &CertificateChecker{cert: cert, tree: NewMerkleTree()}, nil
}

// Add takes the next leaf line.
func (c *CertificateChecker) Add(l DrawLeafLine) error {
	if want := len(c.weights); l.Index != want {
		return fmt.Errorf("%w: leaf line %d has index %d", ErrCertificateMismatch, want, l.Index)
	}
	h, err := hex.DecodeString(l.LeafHash)
	if err != nil || len(h) != 32 {
		return fmt.Errorf("%w: leaf %d: leafHash is not 32 bytes of hex", ErrCertificateMismatch, l.Index)
	}
	if l.Weight < 1 {
		return fmt.Errorf("%w: leaf %d weighs 0", ErrCertificateMismatch, l.Index)
	}
	c.tree.AppendLeafHash(h)
	c.weights = append(c.weights, l.Weight)
	return nil
}

// Finish checks the count and the root, the seed (for drand, from the
// beacon randomness the caller verified: nil for local), and recomputes
// every winner and alternate and the replacements' order.
func (c *CertificateChecker) Finish(beaconRandomness []byte) error {
	cert := c.cert
	if n := len(c.weights); n != cert.CandidateCount {
		return fmt.Errorf("%w: %d leaves, the commit says %d candidates", ErrCertificateMismatch, n, cert.CandidateCount)
	}
	if root := c.tree.RootHex(); root != cert.CandidatesRoot {
		return fmt.Errorf("%w: the leaves' root is %s, the commit's %s", ErrCertificateMismatch, root, cert.CandidatesRoot)
	}
	seed, err := ParseSeed(cert.Seed)
	if err != nil {
		return fmt.Errorf("%w: seed: %w", ErrCertificateMismatch, err)
	}
	if cert.Randomness.Source == RandomnessDrand {
		if beaconRandomness == nil {
			return fmt.Errorf("%w: a drand draw without its beacon", ErrCertificateMismatch)
		}
		var root [32]byte
		rootBytes, _ := hex.DecodeString(cert.CandidatesRoot)
		copy(root[:], rootBytes)
		if want := BeaconSeed(beaconRandomness, root, cert.DrawID); !bytes.Equal(want[:], seed[:]) {
			return fmt.Errorf("%w: seed is not SHA-256(%s ‖ round randomness ‖ root ‖ drawId): want %x", ErrCertificateMismatch, BeaconSeedDomain, want)
		}
	}
	if len(cert.Winners) != cert.WinnerCount || len(cert.Alternates) != cert.AlternateCount {
		return fmt.Errorf("%w: %d winners and %d alternates listed, the commit says %d and %d", ErrCertificateMismatch, len(cert.Winners), len(cert.Alternates), cert.WinnerCount, cert.AlternateCount)
	}
	ws, as, err := DrawOrder(c.weights, seed, cert.WinnerCount, cert.AlternateCount)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCertificateMismatch, err)
	}
	if err := samePicks("winner", cert.Winners, ws); err != nil {
		return err
	}
	if err := samePicks("alternate", cert.Alternates, as); err != nil {
		return err
	}
	last := 0
	for k, r := range cert.Replacements {
		if r.AlternateRank <= last || r.AlternateRank > cert.AlternateCount || r.WinnerRank < 1 || r.WinnerRank > cert.WinnerCount {
			return fmt.Errorf("%w: replacement %d takes alternate %d for winner %d; alternates go in order", ErrCertificateMismatch, k+1, r.AlternateRank, r.WinnerRank)
		}
		last = r.AlternateRank
	}
	return nil
}

// samePicks compares listed picks, by rank, with the recomputed leaf indices.
func samePicks(kind string, listed []DrawPick, leaves []int) error {
	for i, p := range listed {
		if p.Rank != i+1 {
			return fmt.Errorf("%w: %s %d has rank %d", ErrCertificateMismatch, kind, i+1, p.Rank)
		}
		if p.LeafIndex != leaves[i] {
			return fmt.Errorf("%w: %s rank %d is leaf %d, the draw gives leaf %d", ErrCertificateMismatch, kind, p.Rank, p.LeafIndex, leaves[i])
		}
	}
	return nil
}
