package commands

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// ErasedByCustomer is ParticipantErased.erasedBy when the customer asked.
const ErasedByCustomer = "customer"

// ownEntry is the self-service match (erase, 당첨 확인, claim): the stream of
// the participant holding the canonical entryNumber when phone (normalized)
// is theirs, else ErrParticipantNotFound, the same for a wrong phone and an
// unknown entry. Both lookups run whatever matches, and the comparison
// takes constant time, so the timing does not say which part was wrong.
func (h *core) ownEntry(ctx context.Context, campaign domain.Campaign, phone, entryNumber string) (string, error) {
	idKey, err := h.participantKey(ctx, campaign)
	if errors.Is(err, errCampaignKeyGone) {
		return "", domain.ErrParticipantNotFound // no phone links to the campaign any more
	}
	if err != nil {
		return "", err
	}
	claimed := domain.ParticipantID(idKey, campaign.ID, phone)
	stream, err := h.streamByEntry(ctx, campaign.ID, entryNumber)
	if err != nil {
		return "", err
	}
	want := domain.ParticipantStream(claimed)
	if subtle.ConstantTimeCompare([]byte(stream), []byte(want)) != 1 {
		return "", domain.ErrParticipantNotFound
	}
	return stream, nil
}

// EraseParticipantHandler handles EraseParticipant.
type EraseParticipantHandler struct{ *core }

// Handle is the owner's erasure of one participant.
func (h EraseParticipantHandler) Handle(ctx context.Context, cmd EraseParticipant) error {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return err
	}
	if err := campaign.CheckOwner(cmd.OwnerID); err != nil {
		return err
	}
	stream, err := h.participantStream(ctx, cmd.EventID, cmd.EntryNumber)
	if err != nil {
		return err
	}
	return h.erase(ctx, cmd.EventID, stream, domain.ErasedOnRequest, cmd.OwnerID, cmd.Meta)
}

// participantStream finds a participant's stream by entry number.
func (h *core) participantStream(ctx context.Context, eventID uuid.UUID, entryNumber string) (string, error) {
	canonical, ok := domain.ParseEntryNumber(entryNumber)
	if !ok {
		return "", domain.ErrParticipantNotFound
	}
	stream, err := h.streamByEntry(ctx, eventID, canonical)
	if err != nil {
		return "", fmt.Errorf("find participant: %w", err)
	}
	if stream == "" {
		return "", domain.ErrParticipantNotFound
	}
	return stream, nil
}

// erase appends ParticipantErased and deletes the participant's data key in
// one transaction, under the campaign's fence: a draw sees the participant
// either as a candidate or as erased, never half of each.
func (h *core) erase(ctx context.Context, eventID uuid.UUID, stream, reason, by string, meta Meta) error {
	for {
		stored, err := h.store.ReadStream(ctx, stream)
		if err != nil {
			return fmt.Errorf("load participant: %w", err)
		}
		participant, err := applyStored(domain.Participant{}, stored)
		if err != nil {
			return err
		}
		req, ok, err := h.erasure(participant, reason, by, h.clock(), meta)
		if err != nil || !ok {
			return err
		}
		_, err = h.store.AppendWith(ctx, req)
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue // a visit or a reveal came in between: read again
		}
		if err != nil {
			return fmt.Errorf("erase: %w", err)
		}
		return nil
	}
}

// erasure is the append that erases participant, or ok=false when there is
// nothing left to erase.
func (h *core) erasure(p domain.Participant, reason, by string, now time.Time, meta Meta) (eventstore.AppendRequest, bool, error) {
	erased, ok, err := p.Erase(reason, by, now)
	if err != nil || !ok {
		return eventstore.AppendRequest{}, false, err
	}
	data, err := toEventData(erased, p.EventID, meta)
	if err != nil {
		return eventstore.AppendRequest{}, false, err
	}
	return eventstore.AppendRequest{
		Stream:   erased.StreamID(),
		Expected: eventstore.Exactly(p.Version),
		Events:   []eventstore.EventData{data},
		Fence:    campaignFence(p.EventID),
		Shred:    p.ID,
	}, true, nil
}
