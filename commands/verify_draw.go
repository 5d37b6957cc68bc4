package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// ErrDrawNotFound is returned for an unknown draw id.
var ErrDrawNotFound = errors.New("draw not found")

// DrawVerification is a recorded draw and what recomputing it gave.
type DrawVerification struct {
	Draw   domain.WinnersDrawn
	Result domain.DrawVerification
}

// VerifyDraw recomputes a recorded draw from the event store: the candidates
// up to its cut-off, its seed and options. ownerID must own the campaign.
func (h *Handlers) VerifyDraw(ctx context.Context, drawID uuid.UUID, ownerID string) (DrawVerification, error) {
	drawn, err := h.loadDraw(ctx, drawID)
	if err != nil {
		return DrawVerification{}, err
	}
	campaign, err := h.loadCampaign(ctx, drawn.EventID)
	if err != nil {
		return DrawVerification{}, err
	}
	if err := campaign.CheckOwner(ownerID); err != nil {
		return DrawVerification{}, err
	}
	return h.verify(ctx, drawn)
}

// VerifyDrawAsOperator is VerifyDraw without the owner check, for the
// operator's command line.
func (h *Handlers) VerifyDrawAsOperator(ctx context.Context, drawID uuid.UUID) (DrawVerification, error) {
	drawn, err := h.loadDraw(ctx, drawID)
	if err != nil {
		return DrawVerification{}, err
	}
	return h.verify(ctx, drawn)
}

func (h *Handlers) verify(ctx context.Context, drawn domain.WinnersDrawn) (DrawVerification, error) {
	rows, err := h.store.ReadPartitionFields(ctx, drawn.EventID.String(), candidateEventTypes, drawn.CutoffPosition, candidateFields)
	if err != nil {
		return DrawVerification{}, fmt.Errorf("verify: %w", err)
	}
	pool, err := candidatesFrom(rows)
	if err != nil {
		return DrawVerification{}, err
	}
	result, err := domain.VerifyDraw(drawn, pool.candidates)
	if err != nil {
		return DrawVerification{}, fmt.Errorf("verify: %w", err)
	}
	return DrawVerification{Draw: drawn, Result: result}, nil
}

func (h *Handlers) loadDraw(ctx context.Context, drawID uuid.UUID) (domain.WinnersDrawn, error) {
	stream, err := h.store.StreamByKey(ctx, drawKey(drawID))
	if err != nil {
		return domain.WinnersDrawn{}, fmt.Errorf("find draw: %w", err)
	}
	if stream == "" {
		return domain.WinnersDrawn{}, ErrDrawNotFound
	}
	stored, err := h.store.ReadStream(ctx, stream)
	if err != nil {
		return domain.WinnersDrawn{}, fmt.Errorf("load draw: %w", err)
	}
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return domain.WinnersDrawn{}, err
		}
		if d, ok := e.(domain.WinnersDrawn); ok && d.DrawID == drawID {
			return d, nil
		}
	}
	return domain.WinnersDrawn{}, ErrDrawNotFound
}
