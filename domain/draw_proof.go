package domain

import (
	"encoding/hex"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// DrawProof is a leaf's RFC 6962 inclusion proof in a v2 draw's tree: with
// the leaf's bytes ("{drawId}|{entryNumber}|{weight}", which its entrant
// knows) anyone checks that the entry was among the committed candidates,
// with that weight.
type DrawProof struct {
	LeafIndex int      `json:"leafIndex"`
	Weight    uint32   `json:"weight"`
	AuditPath []string `json:"auditPath"` // hex, leaf to root, as RFC 6962 orders it
	TreeSize  int      `json:"treeSize"`
	Root      string   `json:"root"` // hex
}

// DrawInclusionProof builds leaf index's proof from every leaf hash (tree
// order) and the weights. Each audit-path node is the root of a perfect
// subtree, hashed from its leaves: O(n) for one proof, no tree kept.
func DrawInclusionProof(leafHashes [][]byte, weights []uint32, index int) (DrawProof, error) {
	n := len(leafHashes)
	if len(weights) != n {
		return DrawProof{}, fmt.Errorf("draw proof: %d leaf hashes and %d weights", n, len(weights))
	}
	if index < 0 || index >= n {
		return DrawProof{}, fmt.Errorf("draw proof: leaf %d of %d", index, n)
	}
	nodes, err := proof.Inclusion(uint64(index), uint64(n))
	if err != nil {
		return DrawProof{}, fmt.Errorf("draw proof: %w", err)
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		lo := id.Index << id.Level
		hi := min((id.Index+1)<<id.Level, uint64(n))
		hashes[i] = subtreeRoot(leafHashes[lo:hi])
	}
	path, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return DrawProof{}, fmt.Errorf("draw proof: %w", err)
	}
	whole := subtreeRoot(leafHashes)
	p := DrawProof{LeafIndex: index, Weight: weights[index], AuditPath: make([]string, len(path)), TreeSize: n, Root: hex.EncodeToString(whole)}
	for i, h := range path {
		p.AuditPath[i] = hex.EncodeToString(h)
	}
	return p, nil
}

// subtreeRoot is the RFC 6962 root over leaf hashes: a perfect subtree's
// hash is the root of its leaves as a tree of their own.
func subtreeRoot(leafHashes [][]byte) []byte {
	t := NewMerkleTree()
	for _, h := range leafHashes {
		t.AppendLeafHash(h)
	}
	return t.Root()
}
