package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// OpenCampaignHandler handles OpenCampaign.
type OpenCampaignHandler struct{ *core }

// Handle opens a campaign; an existing eventId is ErrCampaignExists.
func (h OpenCampaignHandler) Handle(ctx context.Context, cmd OpenCampaign) (domain.CampaignOpened, error) {
	if cmd.EventID == uuid.Nil {
		cmd.EventID = uuid.New()
	}
	opened, err := domain.OpenCampaignWithClaimDeadline(cmd.EventID, cmd.OwnerID, cmd.Title, cmd.StartsAt, cmd.EndsAt, cmd.AnnounceAt, cmd.ClaimDeadline)
	if err != nil {
		return domain.CampaignOpened{}, err
	}
	data, err := toEventData(opened, opened.EventID, cmd.Meta)
	if err != nil {
		return domain.CampaignOpened{}, err
	}
	// The campaign's own participant-id key commits with its opening, so a
	// campaign of this scheme without a key is one whose key was destroyed.
	_, wrapped, err := h.keys.NewCampaignKey(h.random, opened.EventID)
	if err != nil {
		return domain.CampaignOpened{}, fmt.Errorf("open campaign: %w", err)
	}
	_, err = h.store.AppendWith(ctx, eventstore.AppendRequest{
		Stream: opened.StreamID(), Expected: eventstore.NoStream, Events: []eventstore.EventData{data},
		CampaignKey: &eventstore.CampaignKey{Campaign: opened.EventID, Wrapped: wrapped},
	})
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return domain.CampaignOpened{}, domain.ErrCampaignExists
	}
	if err != nil {
		return domain.CampaignOpened{}, fmt.Errorf("open campaign: %w", err)
	}
	return opened, nil
}
