package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// entryNumberAttempts bounds retries on an entry number collision, which at
// 31^8 numbers per campaign is already rare once.
const entryNumberAttempts = 5

// RegisterParticipantHandler handles RegisterParticipant.
type RegisterParticipantHandler struct{ *core }

// Handle registers a customer. One registration per campaign
// and phone holds through the participant stream's "no stream" append: the
// stream id is a keyed hash of (eventId, phone) under the campaign's key,
// so a duplicate collides.
func (h RegisterParticipantHandler) Handle(ctx context.Context, cmd RegisterParticipant) (Registration, error) {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return Registration{}, err
	}
	idKey, err := h.participantKey(ctx, campaign)
	if errors.Is(err, errCampaignKeyGone) {
		return Registration{}, domain.ErrEventNotOpen // destroyed after the last retention, long after endsAt
	}
	if err != nil {
		return Registration{}, fmt.Errorf("register: %w", err)
	}
	consume, err := h.verifiedPhone(ctx, cmd.EventID, cmd.Phone, cmd.VerificationCode)
	if err != nil {
		return Registration{}, err
	}
	input := domain.RegistrationInput{Name: cmd.Name, Phone: cmd.Phone, EntryPath: cmd.EntryPath, PrivacyConsent: cmd.PrivacyConsent}
	for range entryNumberAttempts {
		entryNumber, err := domain.NewEntryNumber(h.random)
		if err != nil {
			return Registration{}, fmt.Errorf("entry number: %w", err)
		}
		registered, err := campaign.Register(input, h.clock(), idKey, entryNumber)
		if err != nil {
			return Registration{}, err
		}
		// Name and phone are stored only sealed, their data key beside the
		// event in the same transaction.
		sealed, wrapped, err := h.keys.Seal(h.random, registered.ParticipantID, registered.Personal())
		if err != nil {
			return Registration{}, fmt.Errorf("register: %w", err)
		}
		registered = registered.Sealed(sealed)
		data, err := toEventData(registered, cmd.EventID, cmd.Meta)
		if err != nil {
			return Registration{}, err
		}
		reg := Registration{ParticipantID: registered.ParticipantID, EntryNumber: entryNumber, AnnounceAt: campaign.AnnounceAt}
		write, err := idempotentWrite(cmd.Idempotency, reg)
		if err != nil {
			return Registration{}, err
		}
		_, err = h.appendRegistration(ctx, eventstore.AppendRequest{
			Stream:   registered.StreamID(),
			Expected: eventstore.NoStream,
			Events:   []eventstore.EventData{data},
			Entry:    &eventstore.EntryClaim{Campaign: cmd.EventID, Number: entryNumber},
			Fence:    campaignFence(cmd.EventID),
			ClosedBy: domain.DrawStream(cmd.EventID),

			SubjectKey:  &eventstore.SubjectKey{Subject: registered.ParticipantID, Wrapped: wrapped},
			Idempotency: write,
		})
		if write != nil && (err == nil || errors.Is(err, eventstore.ErrWrongExpectedVersion) || errors.Is(err, eventstore.ErrClosed)) {
			cmd.Idempotency.Settled = true // the answer of this outcome committed with it
		}
		switch {
		case err == nil:
			consume()
			return reg, nil
		case errors.Is(err, eventstore.ErrIdempotencyKeyTaken):
			return Registration{}, ErrIdempotencyKeyTaken
		case errors.Is(err, eventstore.ErrWrongExpectedVersion):
			return Registration{}, domain.ErrAlreadyParticipated
		case errors.Is(err, eventstore.ErrClosed):
			return Registration{}, domain.ErrEventNotOpen
		case errors.Is(err, eventstore.ErrDuplicateKey):
			continue // another participant holds this entry number: draw a new one
		default:
			return Registration{}, fmt.Errorf("register: %w", err)
		}
	}
	return Registration{}, fmt.Errorf("register: no free entry number after %d attempts", entryNumberAttempts)
}

// idempotentWrite is the key's claim with the answers of each outcome, the
// 201 rendered for reg; nil without a key.
func idempotentWrite(idem *RegistrationIdempotency, reg Registration) (*eventstore.IdempotentWrite, error) {
	if idem == nil || idem.Write == nil {
		return nil, nil
	}
	body, err := idem.Answer(reg)
	if err != nil {
		return nil, fmt.Errorf("register: idempotent answer: %w", err)
	}
	w := *idem.Write
	w.Won = eventstore.IdempotentAnswer{Status: 201, Body: body, Subject: reg.ParticipantID}
	return &w, nil
}
