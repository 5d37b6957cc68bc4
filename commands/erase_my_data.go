package commands

import (
	"context"
	"fmt"

	"github.com/shopevents/participation/domain"
)

// EraseMyDataHandler handles EraseMyData.
type EraseMyDataHandler struct{ *core }

// Handle erases the customer's registration when the phone and the
// entry number both match it; anything else is ErrParticipantNotFound, the
// same as unknown, and counts towards the entry's lockout (selfService).
// Both lookups run whatever matches, and the comparison takes constant
// time, so the answer's timing does not say which part was wrong. Erasing
// twice is not an error.
func (h EraseMyDataHandler) Handle(ctx context.Context, cmd EraseMyData) error {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return err
	}
	phone, err := domain.NormalizePhone(cmd.Phone)
	if err != nil {
		return &domain.ValidationError{Fields: []domain.FieldError{{Field: "phone", Reason: err.Error()}}}
	}
	entryNumber, ok := domain.ParseEntryNumber(cmd.EntryNumber)
	if !ok {
		return domain.ErrParticipantNotFound // no entry is spelled so: nothing to guess, nothing to count
	}
	consume, err := h.verifiedPhone(ctx, cmd.EventID, phone, cmd.VerificationCode)
	if err != nil {
		return err
	}
	_, err = selfService(ctx, h.core, cmd.EventID, entryNumber, func() (struct{}, error) {
		stream, err := h.ownEntry(ctx, campaign, phone, entryNumber)
		if err != nil {
			return struct{}{}, fmt.Errorf("erase: %w", err)
		}
		return struct{}{}, h.erase(ctx, cmd.EventID, stream, domain.ErasedOnRequest, ErasedByCustomer, cmd.Meta)
	})
	if err == nil {
		consume()
	}
	return err
}
