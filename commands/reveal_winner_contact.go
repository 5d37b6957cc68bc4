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

// RevealWinnerContact returns a winner's unmasked name and phone to the
// campaign's owner, for delivering the prize, and records that it did
// (WinnerContactRevealed) before answering: no reveal goes unrecorded.
// A participant who did not win is domain.ErrNotWinner (as unknown, 404);
// an erased winner is domain.ErrParticipantErased (409).
func (h *Handlers) RevealWinnerContact(ctx context.Context, cmd RevealWinnerContact) (domain.PersonalData, error) {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return domain.PersonalData{}, err
	}
	if err := campaign.CheckOwner(cmd.OwnerID); err != nil {
		return domain.PersonalData{}, err
	}
	stream, err := h.participantStream(ctx, cmd.EventID, cmd.EntryNumber)
	if err != nil {
		return domain.PersonalData{}, err
	}
	winners, err := h.winnerIDs(ctx, cmd.EventID, false)
	if err != nil {
		return domain.PersonalData{}, err
	}
	for {
		stored, err := h.store.ReadStream(ctx, stream)
		if err != nil {
			return domain.PersonalData{}, fmt.Errorf("load participant: %w", err)
		}
		participant, err := applyStored(domain.Participant{}, stored)
		if err != nil {
			return domain.PersonalData{}, err
		}
		revealed, err := participant.RevealContact(slices.Contains(winners, participant.ID), cmd.OwnerID, h.clock())
		if err != nil {
			return domain.PersonalData{}, err
		}
		keys, err := h.store.SubjectKeys(ctx, []uuid.UUID{participant.ID})
		if err != nil {
			return domain.PersonalData{}, err
		}
		personal, err := h.openAll(stored, keys)
		if err != nil {
			return domain.PersonalData{}, err
		}
		pd := personal[participant.ID]
		if pd == (domain.PersonalData{}) {
			return domain.PersonalData{}, domain.ErrParticipantErased // the key is gone: erased meanwhile
		}
		data, err := toEventData(revealed, cmd.EventID, cmd.Meta)
		if err != nil {
			return domain.PersonalData{}, err
		}
		_, err = h.store.AppendWith(ctx, eventstore.AppendRequest{
			Stream: stream, Expected: eventstore.Exactly(participant.Version),
			Events: []eventstore.EventData{data}, Fence: campaignFence(cmd.EventID),
		})
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue // a visit or an erasure came in between: decide again
		}
		if err != nil {
			return domain.PersonalData{}, fmt.Errorf("reveal contact: %w", err)
		}
		return pd, nil
	}
}

// winnerIDs returns the campaign's winners holding a rank now, promoted
// alternates included (none before its draw), and with withAlternates
// everyone the draw named: winners, replaced ones and alternates.
func (h *Handlers) winnerIDs(ctx context.Context, eventID uuid.UUID, withAlternates bool) ([]uuid.UUID, error) {
	state, err := h.drawState(ctx, eventID)
	if err != nil || state.Drawn == nil {
		return nil, err
	}
	var ids []uuid.UUID
	if withAlternates {
		for _, w := range slices.Concat(state.Drawn.Winners, state.Drawn.Alternates) {
			ids = append(ids, w.ParticipantID)
		}
		return ids, nil
	}
	for _, w := range state.Holders {
		ids = append(ids, w.ParticipantID)
	}
	return ids, nil
}

// ContactReveals asks for a campaign's reveals; OwnerID must own it.
type ContactReveals struct {
	EventID uuid.UUID
	OwnerID string
}

// ContactReveals lists the campaign's contact and delivery reveals, oldest first.
func (h *Handlers) ContactReveals(ctx context.Context, eventID uuid.UUID, ownerID string) ([]ContactReveal, error) {
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
