package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// ClaimPrize is a winner's claim with their phone, entry number and the
// delivery details.
type ClaimPrize struct {
	EventID         uuid.UUID
	Phone           string
	EntryNumber     string
	Delivery        domain.Delivery
	DeliveryConsent bool
	// VerificationCode: as RegisterParticipant's.
	VerificationCode string
	Meta             Meta
}

// ClaimPrizeHandler handles ClaimPrize.
type ClaimPrizeHandler struct{ *core }

// Handle appends PrizeClaimed with the delivery sealed under the
// participant's data key, at the stream's version: of two concurrent claims
// one wins and the other reads the claim and is domain.ErrAlreadyClaimed.
// Before the result domain.ErrNotAnnounced (decided before the match, as
// 당첨 확인's); a wrong phone, an unknown entry, an alternate or a non-winner
// are ErrParticipantNotFound behind the lockout; an erased winner
// ErrEntryErased; from the claim deadline domain.ErrClaimClosed.
func (h ClaimPrizeHandler) Handle(ctx context.Context, cmd ClaimPrize) (domain.PrizeClaimed, error) {
	phone, phoneErr := domain.NormalizePhone(cmd.Phone)
	delivery, deliveryErr := domain.NewDelivery(cmd.Delivery, cmd.DeliveryConsent)
	e, err := h.resultEntry(ctx, cmd.EventID, cmd.EntryNumber, func() error {
		if phoneErr != nil || deliveryErr != nil {
			return claimInvalid(phoneErr, deliveryErr)
		}
		return nil
	})
	if err != nil {
		return domain.PrizeClaimed{}, err
	}
	consume, err := h.verifiedPhone(ctx, cmd.EventID, phone, cmd.VerificationCode)
	if err != nil {
		return domain.PrizeClaimed{}, err
	}
	claimed, err := onOwnEntry(ctx, h.core, e, phone, func(stream string) (domain.PrizeClaimed, error) {
		return h.claim(ctx, e.campaign, e.state, stream, delivery, cmd.Meta)
	})
	if err == nil {
		consume()
	}
	return claimed, err
}

// claim decides and appends the claim, reading the stream again when
// something was appended in between.
func (h *core) claim(ctx context.Context, campaign domain.Campaign, state domain.DrawState, stream string,
	delivery domain.Delivery, meta Meta) (domain.PrizeClaimed, error) {
	for {
		p, err := h.liveParticipant(ctx, stream)
		if err != nil {
			return domain.PrizeClaimed{}, err
		}
		// the rank's holder now: a replaced winner is not one any more, a
		// promoted alternate is, until its own deadline
		holder, won := state.Holder(p.ID)
		deadline := holder.Deadline(campaign.ClaimDeadline)
		now := h.clock()
		if _, err := p.Claim(won, deadline, now, ""); err != nil {
			return domain.PrizeClaimed{}, err // decided before the key is opened
		}
		keys, err := h.store.SubjectKeys(ctx, []uuid.UUID{p.ID})
		if err != nil {
			return domain.PrizeClaimed{}, err
		}
		sealed, err := h.keys.SealDelivery(h.random, p.ID, keys[p.ID], delivery)
		if err != nil {
			return domain.PrizeClaimed{}, ErrEntryErased // the key is gone: erased meanwhile
		}
		claimed, err := p.Claim(won, deadline, now, sealed)
		if err != nil {
			return domain.PrizeClaimed{}, err
		}
		data, err := toEventData(claimed, p.EventID, meta)
		if err != nil {
			return domain.PrizeClaimed{}, err
		}
		_, err = h.store.AppendWith(ctx, eventstore.AppendRequest{
			Stream: stream, Expected: eventstore.Exactly(p.Version),
			Events: []eventstore.EventData{data}, Fence: campaignFence(p.EventID),
		})
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue // another claim, a visit or an erasure came in between: decide again
		}
		if err != nil {
			return domain.PrizeClaimed{}, fmt.Errorf("claim: %w", err)
		}
		return claimed, nil
	}
}

// claimInvalid joins the phone's and the delivery's field errors.
func claimInvalid(phoneErr, deliveryErr error) error {
	v := &domain.ValidationError{}
	if phoneErr != nil {
		v.Fields = append(v.Fields, domain.FieldError{Field: "phone", Reason: phoneErr.Error()})
	}
	var de *domain.ValidationError
	if errors.As(deliveryErr, &de) {
		v.Fields = append(v.Fields, de.Fields...)
	}
	return v
}
