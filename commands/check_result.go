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
	state, err := h.drawState(ctx, cmd.EventID)
	if err != nil {
		return domain.ResultCheck{}, err
	}
	if state.Drawn == nil {
		return domain.ResultCheck{}, domain.ErrNotAnnounced
	}
	commit := state.Commit
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
		// replacements included: a replaced winner is REPLACED, a promoted
		// alternate WON with its own claim window
		out := state.Check(participant.ID, campaign.ClaimDeadline, now)
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
