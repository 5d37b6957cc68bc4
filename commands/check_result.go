package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// ErrEntryErased is a self-service match on an erased participant: the API
// answers it exactly as ErrParticipantNotFound (404), but it is not a wrong
// phone, so it does not count towards the entry's lockout.
var ErrEntryErased = errors.New("entry erased")

// CheckResult is a customer's 당첨 확인 with their phone and entry number.
type CheckResult struct {
	EventID     uuid.UUID
	Phone       string
	EntryNumber string
}

// CheckResult tells the participant their own outcome: domain.ErrNotAnnounced
// before announceAt or while no result is drawn (decided before the match, so
// it says nothing of the entry and counts nothing); a wrong phone or an
// unknown entry is ErrParticipantNotFound behind the lockout (selfService);
// an erased participant ErrEntryErased.
func (h *Handlers) CheckResult(ctx context.Context, cmd CheckResult) (domain.ResultCheck, error) {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return domain.ResultCheck{}, err
	}
	phone, err := domain.NormalizePhone(cmd.Phone)
	if err != nil {
		return domain.ResultCheck{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "phone", Reason: err.Error()}}}
	}
	now := h.clock()
	if now.Before(campaign.AnnounceAt) {
		return domain.ResultCheck{}, domain.ErrNotAnnounced
	}
	drawn, commit, ok, err := h.drawnResult(ctx, cmd.EventID)
	if err != nil {
		return domain.ResultCheck{}, err
	}
	if !ok {
		return domain.ResultCheck{}, domain.ErrNotAnnounced
	}
	entryNumber, ok := domain.ParseEntryNumber(cmd.EntryNumber)
	if !ok {
		return domain.ResultCheck{}, domain.ErrParticipantNotFound // no entry is spelled so: nothing to count
	}
	return selfService(ctx, h, cmd.EventID, entryNumber, func() (domain.ResultCheck, error) {
		stream, err := h.ownEntry(ctx, campaign, phone, entryNumber)
		if err != nil {
			return domain.ResultCheck{}, fmt.Errorf("check result: %w", err)
		}
		stored, err := h.store.ReadStream(ctx, stream)
		if err != nil {
			return domain.ResultCheck{}, fmt.Errorf("load participant: %w", err)
		}
		participant, err := applyStored(domain.Participant{}, stored)
		if err != nil {
			return domain.ResultCheck{}, err
		}
		if participant.Erased {
			return domain.ResultCheck{}, ErrEntryErased
		}
		out := domain.CheckResult(drawn, participant.ID, campaign.ClaimDeadline, now)
		if commit != nil {
			if out.Proof, err = h.entryProof(ctx, *commit, entryNumber); err != nil {
				return domain.ResultCheck{}, fmt.Errorf("check result: %w", err)
			}
			out.DrawID = commit.DrawID
		}
		if out.Claim != nil && !participant.ClaimedAt.IsZero() {
			out.Claim.State = domain.ClaimClaimed
		}
		return out, nil
	})
}

// drawnResult is the campaign's drawn result and, for a v2 draw, its
// commit; ok is false before one is drawn (no draw, or a commit waiting for
// its randomness).
func (h *Handlers) drawnResult(ctx context.Context, eventID uuid.UUID) (domain.WinnersDrawn, *domain.DrawCommitted, bool, error) {
	stored, err := h.store.ReadStream(ctx, domain.DrawStream(eventID))
	if err != nil {
		return domain.WinnersDrawn{}, nil, false, fmt.Errorf("load draw: %w", err)
	}
	var commit *domain.DrawCommitted
	for _, rec := range stored {
		if rec.Type != domain.TypeWinnersDrawn && rec.Type != domain.TypeDrawCommitted {
			continue
		}
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return domain.WinnersDrawn{}, nil, false, err
		}
		switch e := e.(type) {
		case domain.DrawCommitted:
			commit = &e
		case domain.WinnersDrawn:
			return e, commit, true, nil
		}
	}
	return domain.WinnersDrawn{}, nil, false, nil
}
