package commands

import (
	"context"

	"github.com/google/uuid"
)

// AuthorizeOwner asks whether OwnerID owns the campaign EventID: the check
// before an owner reads or changes anything of a campaign.
type AuthorizeOwner struct {
	EventID uuid.UUID
	OwnerID string
}

// AuthorizeOwnerHandler handles AuthorizeOwner.
type AuthorizeOwnerHandler struct{ *core }

// Handle is nil when the owner owns the campaign, domain.ErrNotOwner when
// another does, domain.ErrCampaignNotFound for an unknown campaign.
func (h AuthorizeOwnerHandler) Handle(ctx context.Context, q AuthorizeOwner) error {
	c, err := h.loadCampaign(ctx, q.EventID)
	if err != nil {
		return err
	}
	return c.CheckOwner(q.OwnerID)
}
