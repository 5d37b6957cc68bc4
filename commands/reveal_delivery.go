package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// RevealDeliveryHandler handles RevealDelivery.
type RevealDeliveryHandler struct{ *core }

// Handle returns a claimed winner's delivery details, opened from
// their PrizeClaimed, to the campaign's owner for sending the prize, and
// records that it did (DeliveryRevealed) before answering, as the contact
// reveal does. A participant who neither won nor claimed is
// domain.ErrNotWinner (404); an erased winner domain.ErrParticipantErased
// (409); a winner who has not claimed domain.ErrNotClaimed (409).
func (h RevealDeliveryHandler) Handle(ctx context.Context, cmd RevealDelivery) (DeliveryReveal, error) {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return DeliveryReveal{}, err
	}
	if err := campaign.CheckOwner(cmd.OwnerID); err != nil {
		return DeliveryReveal{}, err
	}
	stream, err := h.participantStream(ctx, cmd.EventID, cmd.EntryNumber)
	if err != nil {
		return DeliveryReveal{}, err
	}
	winners, err := h.winnerIDs(ctx, cmd.EventID, false)
	if err != nil {
		return DeliveryReveal{}, err
	}
	for {
		stored, err := h.store.ReadStream(ctx, stream)
		if err != nil {
			return DeliveryReveal{}, fmt.Errorf("load participant: %w", err)
		}
		participant, err := applyStored(domain.Participant{}, stored)
		if err != nil {
			return DeliveryReveal{}, err
		}
		revealed, err := participant.RevealDelivery(slices.Contains(winners, participant.ID), cmd.OwnerID, h.clock())
		if err != nil {
			return DeliveryReveal{}, err
		}
		delivery, err := h.openDelivery(ctx, participant.ID, stored)
		if err != nil {
			return DeliveryReveal{}, err
		}
		data, err := toEventData(revealed, cmd.EventID, cmd.Meta)
		if err != nil {
			return DeliveryReveal{}, err
		}
		_, err = h.store.AppendWith(ctx, eventstore.AppendRequest{
			Stream: stream, Expected: eventstore.Exactly(participant.Version),
			Events: []eventstore.EventData{data}, Fence: campaignFence(cmd.EventID),
		})
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue // a visit or an erasure came in between: decide again
		}
		if err != nil {
			return DeliveryReveal{}, fmt.Errorf("reveal delivery: %w", err)
		}
		return DeliveryReveal{Delivery: delivery, ClaimedAt: participant.ClaimedAt}, nil
	}
}

// openDelivery opens the sealed delivery of the stream's PrizeClaimed with
// the participant's data key; a key gone (erased meanwhile) or a delivery
// that does not open is domain.ErrParticipantErased.
func (h *core) openDelivery(ctx context.Context, id uuid.UUID, stored []eventstore.RecordedEvent) (domain.Delivery, error) {
	var claim domain.PrizeClaimed
	for _, rec := range stored {
		if rec.Type != domain.TypePrizeClaimed {
			continue
		}
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return domain.Delivery{}, err
		}
		claim = e.(domain.PrizeClaimed)
	}
	keys, err := h.store.SubjectKeys(ctx, []uuid.UUID{id})
	if err != nil {
		return domain.Delivery{}, err
	}
	d, err := h.keys.OpenDelivery(id, claim.Delivery, keys[id])
	if err != nil {
		return domain.Delivery{}, fmt.Errorf("%w: %w", domain.ErrParticipantErased, err)
	}
	return d, nil
}
