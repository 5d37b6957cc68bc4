package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// RecordStoreVisitHandler handles RecordStoreVisit.
type RecordStoreVisitHandler struct{ *core }

// Handle marks a participant as visited. A participant already
// marked stays as it is, and that is not an error.
func (h RecordStoreVisitHandler) Handle(ctx context.Context, cmd RecordStoreVisit) error {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return err
	}
	if err := campaign.CheckOwner(cmd.OwnerID); err != nil {
		return err
	}
	entryNumber, ok := domain.ParseEntryNumber(cmd.EntryNumber)
	if !ok {
		return domain.ErrParticipantNotFound
	}
	stream, err := h.streamByEntry(ctx, cmd.EventID, entryNumber)
	if err != nil {
		return fmt.Errorf("find participant: %w", err)
	}
	if stream == "" {
		return domain.ErrParticipantNotFound
	}
	for {
		stored, err := h.store.ReadStream(ctx, stream)
		if err != nil {
			return fmt.Errorf("load participant: %w", err)
		}
		participant, err := applyStored(domain.Participant{}, stored)
		if err != nil {
			return err
		}
		visit, ok, err := participant.RecordVisit(h.clock())
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		data, err := toEventData(visit, cmd.EventID, cmd.Meta)
		if err != nil {
			return err
		}
		_, err = h.store.AppendWith(ctx, eventstore.AppendRequest{
			Stream:   stream,
			Expected: eventstore.Exactly(participant.Version),
			Events:   []eventstore.EventData{data},
			Fence:    campaignFence(cmd.EventID),
		})
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue // a concurrent visit: read again, it is most likely recorded
		}
		if err != nil {
			return fmt.Errorf("record visit: %w", err)
		}
		return nil
	}
}
