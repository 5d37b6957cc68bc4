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

// CheckResultHandler handles CheckResult.
type CheckResultHandler struct{ *core }

// Handle tells the participant their own outcome: domain.ErrNotAnnounced
// before announceAt or while no result is drawn (decided before the match, so
// it says nothing of the entry and counts nothing); a wrong phone or an
// unknown entry is ErrParticipantNotFound behind the lockout (selfService);
// an erased participant ErrEntryErased.
func (h CheckResultHandler) Handle(ctx context.Context, cmd CheckResult) (domain.ResultCheck, error) {
	phone, phoneErr := domain.NormalizePhone(cmd.Phone)
	e, err := h.resultEntry(ctx, cmd.EventID, cmd.EntryNumber, func() error {
		if phoneErr != nil {
			return &domain.ValidationError{Fields: []domain.FieldError{{Field: "phone", Reason: phoneErr.Error()}}}
		}
		return nil
	})
	if err != nil {
		return domain.ResultCheck{}, err
	}
	return onOwnEntry(ctx, h.core, e, phone, func(stream string) (domain.ResultCheck, error) {
		participant, err := h.liveParticipant(ctx, stream)
		if err != nil {
			return domain.ResultCheck{}, err
		}
		// replacements included: a replaced winner is REPLACED, a promoted
		// alternate WON with its own claim window
		out := e.state.Check(participant.ID, e.campaign.ClaimDeadline, e.now)
		if commit := e.state.Commit; commit != nil {
			if out.Proof, err = h.entryProof(ctx, *commit, e.entryNumber); err != nil {
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
