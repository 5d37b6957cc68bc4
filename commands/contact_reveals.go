package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// ContactReveals asks for a campaign's reveals; OwnerID must own it.
type ContactReveals struct {
	EventID uuid.UUID
	OwnerID string
}

// ContactRevealsHandler reads the reveals' audit list.
type ContactRevealsHandler struct{ *core }

// Handle lists the campaign's contact and delivery reveals, oldest first.
func (h ContactRevealsHandler) Handle(ctx context.Context, q ContactReveals) ([]ContactReveal, error) {
	eventID, ownerID := q.EventID, q.OwnerID
	campaign, err := h.loadCampaign(ctx, eventID)
	if err != nil {
		return nil, err
	}
	if err := campaign.CheckOwner(ownerID); err != nil {
		return nil, err
	}
	stored, err := h.store.ReadPartition(ctx, eventID.String(),
		[]string{domain.TypeWinnerContactRevealed, domain.TypeDeliveryRevealed}, 0)
	if err != nil {
		return nil, fmt.Errorf("contact reveals: %w", err)
	}
	out := make([]ContactReveal, 0, len(stored))
	var streams []string
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return nil, err
		}
		var r ContactReveal
		switch e := e.(type) {
		case domain.WinnerContactRevealed:
			r = ContactReveal{Kind: RevealKindContact, ParticipantID: e.ParticipantID, RevealedBy: e.RevealedBy, RevealedAt: e.RevealedAt}
		case domain.DeliveryRevealed:
			r = ContactReveal{Kind: RevealKindDelivery, ParticipantID: e.ParticipantID, RevealedBy: e.RevealedBy, RevealedAt: e.RevealedAt}
		}
		out = append(out, r)
		streams = append(streams, domain.ParticipantStream(r.ParticipantID))
	}
	if len(out) == 0 {
		return out, nil
	}
	regs, err := h.store.ReadStreamsOfType(ctx, streams, domain.TypeParticipantRegistered)
	if err != nil {
		return nil, fmt.Errorf("contact reveals: %w", err)
	}
	numbers := map[uuid.UUID]string{}
	for _, rec := range regs {
		if e, err := domain.DecodeEvent(rec.Type, rec.Data); err == nil {
			reg := e.(domain.ParticipantRegistered)
			numbers[reg.ParticipantID] = reg.EntryNumber
		}
	}
	for i := range out {
		out[i].EntryNumber = numbers[out[i].ParticipantID]
	}
	return out, nil
}
