package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// CampaignHandler reads a campaign for its public page and the owner.
type CampaignHandler struct{ *core }

// Handle returns the campaign as the rules see it now, Drawn included, read
// from the event store so a campaign just opened or drawn shows at once (the
// public page decides from it whether to show the form).
// domain.ErrCampaignNotFound for an unknown campaign.
func (h CampaignHandler) Handle(ctx context.Context, eventID uuid.UUID) (domain.Campaign, error) {
	c, err := h.loadCampaign(ctx, eventID)
	if err != nil {
		return domain.Campaign{}, err
	}
	if c.Drawn, err = h.drawn(ctx, eventID); err != nil {
		return domain.Campaign{}, err
	}
	return c, nil
}
