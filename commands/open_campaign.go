package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// OpenCampaign opens a campaign; an existing eventId is ErrCampaignExists.
func (h *Handlers) OpenCampaign(ctx context.Context, cmd OpenCampaign) (domain.CampaignOpened, error) {
	if cmd.EventID == uuid.Nil {
		cmd.EventID = uuid.New()
	}
	opened, err := domain.OpenCampaign(cmd.EventID, cmd.OwnerID, cmd.Title, cmd.StartsAt, cmd.EndsAt, cmd.AnnounceAt)
	if err != nil {
		return domain.CampaignOpened{}, err
	}
	data, err := toEventData(opened, opened.EventID, cmd.Meta)
	if err != nil {
		return domain.CampaignOpened{}, err
	}
	_, err = h.store.Append(ctx, opened.StreamID(), eventstore.NoStream, data)
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return domain.CampaignOpened{}, domain.ErrCampaignExists
	}
	if err != nil {
		return domain.CampaignOpened{}, fmt.Errorf("open campaign: %w", err)
	}
	return opened, nil
}
