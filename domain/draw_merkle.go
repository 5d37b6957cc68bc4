package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// A v2 draw commits to its candidates with an RFC 6962 Merkle tree (the
// hashing of Certificate Transparency): leaf i is the UTF-8 bytes
// "{drawId}|{entryNumber}|{weight}" of the i-th candidate in entry-number
// order, drawId the canonical lower-case UUID and weight in decimal. The
// drawId in every leaf ties the tree to one draw, so a leaf cannot be
// replayed into another draw's proof.

// AppendDrawLeaf appends a candidate's leaf bytes to dst.
func AppendDrawLeaf(dst []byte, drawID uuid.UUID, entryNumber []byte, weight uint32) []byte {
	dst = appendUUID(dst, drawID)
	dst = append(dst, '|')
	dst = append(dst, entryNumber...)
	dst = append(dst, '|')
	return strconv.AppendUint(dst, uint64(weight), 10)
}

// DrawLeafHash is the RFC 6962 hash of a leaf: SHA-256(0x00 ‖ leaf).
func DrawLeafHash(leaf []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(leaf) }

// MerkleTree computes an RFC 6962 root over leaves appended in order, in
// O(n) time and O(log n) memory (a compact range: one hash per perfect
// subtree on the right border).
type MerkleTree struct {
	r   *compact.Range
	buf []byte // 0x00 ‖ leaf, reused
}

// merkleRanges hashes children as rfc6962.DefaultHasher.HashChildren does
// (SHA-256(0x01 ‖ left ‖ right)), without its two allocations a node: a
// million leaves make a million nodes. TestMerkleHashesAreRFC6962's.
var merkleRanges = &compact.RangeFactory{Hash: hashChildren}

func hashChildren(l, r []byte) []byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(b[1:], l)
	copy(b[1+len(l):], r)
	h := sha256.Sum256(b[:1+len(l)+len(r)])
	return h[:]
}

// NewMerkleTree returns an empty tree.
func NewMerkleTree() *MerkleTree { return newMerkleTreeAt(0) }

// newMerkleTreeAt returns an empty part of a tree whose first leaf is begin.
func newMerkleTreeAt(begin uint64) *MerkleTree {
	return &MerkleTree{r: merkleRanges.NewEmptyRange(begin)}
}

// appendTree appends the leaves of o, the part of the tree right after t's.
func (t *MerkleTree) appendTree(o *MerkleTree) {
	if err := t.r.AppendRange(o.r, nil); err != nil {
		panic(fmt.Sprintf("merkle: %v", err)) // parts are made adjacent by construction
	}
}

// AppendLeaf adds the next leaf (its bytes, not its hash).
func (t *MerkleTree) AppendLeaf(leaf []byte) {
	t.buf = append(append(t.buf[:0], rfc6962.RFC6962LeafHashPrefix), leaf...)
	h := sha256.Sum256(t.buf)
	t.AppendLeafHash(h[:])
}

// AppendLeafHash adds the next leaf by its RFC 6962 leaf hash.
func (t *MerkleTree) AppendLeafHash(hash []byte) {
	// Append fails only for a range not starting at 0, which this never is.
	if err := t.r.Append(hash, nil); err != nil {
		panic(fmt.Sprintf("merkle: %v", err))
	}
}

// Size is the number of leaves appended.
func (t *MerkleTree) Size() uint64 { return t.r.End() - t.r.Begin() }

// Root is the tree's root hash; an empty tree's is SHA-256 of nothing.
func (t *MerkleTree) Root() []byte {
	root, err := t.r.GetRootHash(nil)
	if err != nil {
		panic(fmt.Sprintf("merkle: %v", err))
	}
	if root == nil {
		return rfc6962.DefaultHasher.EmptyRoot()
	}
	return root
}

// RootHex is Root in lower-case hex, as DrawCommitted.candidatesRoot holds it.
func (t *MerkleTree) RootHex() string { return hex.EncodeToString(t.Root()) }
