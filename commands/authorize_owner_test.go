package commands_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// The owner's authorization is one query: the API answers 403 and 404 from
// its error alone.
func TestAuthorizeOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID := f.openCampaign(t, "owner-1")
	tests := []struct {
		name    string
		eventID uuid.UUID
		owner   string
		want    error
	}{
		{"owner_of_the_campaign_passes", eventID, "owner-1", nil},
		{"another_owner_is_not_owner", eventID, "owner-2", domain.ErrNotOwner},
		{"no_owner_is_not_owner", eventID, "", domain.ErrNotOwner},
		{"unknown_campaign_is_not_found", uuid.New(), "owner-1", domain.ErrCampaignNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.app.Queries.AuthorizeOwner.Handle(context.Background(), commands.AuthorizeOwner{EventID: tt.eventID, OwnerID: tt.owner})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}
