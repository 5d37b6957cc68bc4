package commands

import (
	"context"
	"fmt"

	"github.com/shopevents/participation/domain"
)

// PendingDrandDrawsHandler finds the drand draws to complete.
type PendingDrandDrawsHandler struct{ *core }

// Handle returns the drand draws committed without a result.
func (h PendingDrandDrawsHandler) Handle(ctx context.Context) ([]PendingDrawCommit, error) {
	stored, err := h.store.PendingDrawCommits(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PendingDrawCommit, 0, len(stored))
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return nil, fmt.Errorf("draw commit at %d: %w", rec.Position, err)
		}
		commit, ok := e.(domain.DrawCommitted)
		if !ok || commit.Randomness.Source != domain.RandomnessDrand {
			continue // a local commit always has its result in its transaction
		}
		out = append(out, PendingDrawCommit{Commit: commit, Version: rec.StreamVersion,
			Meta: Meta{CorrelationID: rec.Metadata.CorrelationID, Actor: rec.Metadata.Actor}})
	}
	return out, nil
}
