package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// resultEntry is what 당첨 확인 and the claim know before they match a
// phone: the campaign, its drawn result and the canonical entry number.
type resultEntry struct {
	eventID     uuid.UUID
	campaign    domain.Campaign
	state       domain.DrawState // Drawn is set
	entryNumber string
	now         time.Time
}

// resultEntry is the preamble 당첨 확인 and the claim share, decided before
// any match so that it says nothing of the entry and counts nothing: the
// campaign (domain.ErrCampaignNotFound), then valid's verdict on the input,
// then domain.ErrNotAnnounced before announceAt or while no result is
// drawn, then ErrParticipantNotFound for an entry number no entry is
// spelled as.
func (h *core) resultEntry(ctx context.Context, eventID uuid.UUID, entryNumber string, valid func() error) (resultEntry, error) {
	campaign, err := h.loadCampaign(ctx, eventID)
	if err != nil {
		return resultEntry{}, err
	}
	if err := valid(); err != nil {
		return resultEntry{}, err
	}
	now := h.clock()
	if now.Before(campaign.AnnounceAt) {
		return resultEntry{}, domain.ErrNotAnnounced
	}
	state, err := h.drawState(ctx, eventID)
	if err != nil {
		return resultEntry{}, err
	}
	if state.Drawn == nil {
		return resultEntry{}, domain.ErrNotAnnounced
	}
	canonical, ok := domain.ParseEntryNumber(entryNumber)
	if !ok {
		return resultEntry{}, domain.ErrParticipantNotFound
	}
	return resultEntry{eventID: eventID, campaign: campaign, state: state, entryNumber: canonical, now: now}, nil
}

// onOwnEntry runs try, behind the entry's lockout, on the stream of the
// entry when phone (normalized) owns it.
func onOwnEntry[T any](ctx context.Context, h *core, e resultEntry, phone string, try func(stream string) (T, error)) (T, error) {
	return selfService(ctx, h, e.eventID, e.entryNumber, func() (T, error) {
		stream, err := h.ownEntry(ctx, e.campaign, phone, e.entryNumber)
		if err != nil {
			var zero T
			return zero, fmt.Errorf("own entry: %w", err)
		}
		return try(stream)
	})
}

// liveParticipant reads a participant's stream: ErrEntryErased once erased.
func (h *core) liveParticipant(ctx context.Context, stream string) (domain.Participant, error) {
	stored, err := h.store.ReadStream(ctx, stream)
	if err != nil {
		return domain.Participant{}, fmt.Errorf("load participant: %w", err)
	}
	p, err := applyStored(domain.Participant{}, stored)
	if err != nil {
		return domain.Participant{}, err
	}
	if p.Erased {
		return domain.Participant{}, ErrEntryErased
	}
	return p, nil
}
