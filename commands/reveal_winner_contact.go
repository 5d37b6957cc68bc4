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

// RevealWinnerContactHandler handles RevealWinnerContact.
type RevealWinnerContactHandler struct{ *core }

// Handle returns a winner's unmasked name and phone to the
// campaign's owner, for delivering the prize, and records that it did
// (WinnerContactRevealed) before answering: no reveal goes unrecorded.
// A participant who did not win is domain.ErrNotWinner (as unknown, 404);
// an erased winner is domain.ErrParticipantErased (409).
func (h RevealWinnerContactHandler) Handle(ctx context.Context, cmd RevealWinnerContact) (domain.PersonalData, error) {
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
func (h *core) winnerIDs(ctx context.Context, eventID uuid.UUID, withAlternates bool) ([]uuid.UUID, error) {
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
