package commands

import (
	"bytes"
	"context"

	"github.com/shopevents/participation/domain"
)

// entryProof is entryNumber's inclusion proof in the v2 draw c, or nil when
// it was not a candidate at the cut-off. It reads every leaf of the draw
// (one pass over the candidates, 32 bytes a leaf kept for the audit path):
// a 당첨 확인 on a campaign of a million entries costs about that pass and
// 56 MB for its duration. A check is one participant's, behind the
// per-entry lockout, so the cost is paid only for a matched phone and entry.
func (h *core) entryProof(ctx context.Context, c domain.DrawCommitted, entryNumber string) (*domain.DrawProof, error) {
	want := []byte(entryNumber)
	flat := make([]byte, 0, c.CandidateCount*32)
	weights := make([]uint32, 0, c.CandidateCount)
	index := -1
	err := h.eachLeaf(ctx, c, func(i int, entry, leaf []byte, weight uint32) error {
		if index < 0 && bytes.Equal(entry, want) {
			index = i
		}
		flat = append(flat, domain.DrawLeafHash(leaf)...)
		weights = append(weights, weight)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if index < 0 {
		return nil, nil
	}
	// one buffer for every hash: a million leaves without a million allocations kept
	hashes := make([][]byte, len(weights))
	for i := range hashes {
		hashes[i] = flat[i*32 : (i+1)*32 : (i+1)*32]
	}
	p, err := domain.DrawInclusionProof(hashes, weights, index)
	if err != nil {
		return nil, err
	}
	return &p, nil
}
