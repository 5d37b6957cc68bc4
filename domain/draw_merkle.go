package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/google/uuid"
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
// O(n) time and O(log n) memory: the roots of the perfect subtrees on the
// right border (a compact range), merged as equal sizes meet, then folded
// right to left — RFC 6962's MTH, which splits at the largest power of two
// below n, the left part always perfect. Hashes are fixed arrays: a million
// leaves make two million hashes and no garbage (transparency-dev/merkle's
// compact.Range allocated each node).
type MerkleTree struct {
	size  uint64
	peaks [][32]byte // one per set bit of size, the largest subtree first
	buf   []byte     // 0x00 ‖ leaf, reused
}

// NewMerkleTree returns an empty tree.
func NewMerkleTree() *MerkleTree { return &MerkleTree{peaks: make([][32]byte, 0, 64)} }

// hashChildren is rfc6962.DefaultHasher.HashChildren, SHA-256(0x01 ‖ left ‖
// right), without its allocations (TestMerkleHashesAreRFC6962).
func hashChildren(l, r *[32]byte) [32]byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(b[1:], l[:])
	copy(b[1+sha256.Size:], r[:])
	return sha256.Sum256(b[:])
}

// AppendLeaf adds the next leaf (its bytes, not its hash).
func (t *MerkleTree) AppendLeaf(leaf []byte) {
	t.buf = append(append(t.buf[:0], rfc6962.RFC6962LeafHashPrefix), leaf...)
	t.appendHash(sha256.Sum256(t.buf))
}

// AppendLeafHash adds the next leaf by its RFC 6962 leaf hash (32 bytes).
func (t *MerkleTree) AppendLeafHash(hash []byte) {
	if len(hash) != sha256.Size {
		panic(fmt.Sprintf("merkle: a hash of %d bytes", len(hash)))
	}
	t.appendHash([32]byte(hash))
}

// appendHash adds a node at the tree's lowest level: a leaf hash, or the
// root of a part of 2^k leaves when every node appended is one (LeavesOf's
// chunks), which makes the same root over their leaves.
func (t *MerkleTree) appendHash(h [32]byte) {
	for s := t.size; s&1 == 1; s >>= 1 {
		last := len(t.peaks) - 1
		h = hashChildren(&t.peaks[last], &h)
		t.peaks = t.peaks[:last]
	}
	t.peaks = append(t.peaks, h)
	t.size++
}

// Size is the number of leaves appended.
func (t *MerkleTree) Size() uint64 { return t.size }

// Root is the tree's root hash; an empty tree's is SHA-256 of nothing.
func (t *MerkleTree) Root() []byte {
	if len(t.peaks) == 0 {
		return rfc6962.DefaultHasher.EmptyRoot()
	}
	root := t.peaks[len(t.peaks)-1]
	for i := len(t.peaks) - 2; i >= 0; i-- {
		root = hashChildren(&t.peaks[i], &root)
	}
	return root[:]
}

// RootHex is Root in lower-case hex, as DrawCommitted.candidatesRoot holds it.
func (t *MerkleTree) RootHex() string { return hex.EncodeToString(t.Root()) }
