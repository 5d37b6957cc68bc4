package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// apiApp puts the command handlers behind the API's ports.
func apiApp(h *commands.Handlers) api.App {
	campaign := api.HandlerFunc[uuid.UUID, domain.Campaign](h.Campaign)
	return api.App{
		Customers: api.Customers{
			Campaign:            campaign,
			Register:            api.HandlerFunc[commands.RegisterParticipant, commands.Registration](h.RegisterParticipant),
			RequestVerification: api.HandlerFunc[commands.RequestVerification, commands.VerificationSent](h.RequestVerification),
			EraseMyData:         api.ActionFunc[commands.EraseMyData](h.EraseMyData),
			CheckResult:         api.HandlerFunc[commands.CheckResult, domain.ResultCheck](h.CheckResult),
			ClaimPrize:          api.HandlerFunc[commands.ClaimPrize, domain.PrizeClaimed](h.ClaimPrize),
		},
		Owners: api.Owners{
			Authorize:        api.ActionFunc[commands.AuthorizeOwner](h.AuthorizeOwner),
			Campaign:         campaign,
			OpenCampaign:     api.HandlerFunc[commands.OpenCampaign, domain.CampaignOpened](h.OpenCampaign),
			RecordStoreVisit: api.ActionFunc[commands.RecordStoreVisit](h.RecordStoreVisit),
			DrawWinners:      api.HandlerFunc[commands.DrawWinners, commands.DrawOutcome](h.DrawWinners),
			VerifyDraw: api.HandlerFunc[commands.VerifyDraw, commands.DrawVerification](
				func(ctx context.Context, q commands.VerifyDraw) (commands.DrawVerification, error) {
					return h.VerifyDraw(ctx, q.DrawID, q.OwnerID)
				}),
			EraseParticipant:    api.ActionFunc[commands.EraseParticipant](h.EraseParticipant),
			RevealWinnerContact: api.HandlerFunc[commands.RevealWinnerContact, domain.PersonalData](h.RevealWinnerContact),
			RevealDelivery:      api.HandlerFunc[commands.RevealDelivery, commands.DeliveryReveal](h.RevealDelivery),
			ReplaceWinner:       api.HandlerFunc[commands.ReplaceWinner, commands.Replacement](h.ReplaceWinner),
			ContactReveals: api.HandlerFunc[commands.ContactReveals, []commands.ContactReveal](
				func(ctx context.Context, q commands.ContactReveals) ([]commands.ContactReveal, error) {
					return h.ContactReveals(ctx, q.EventID, q.OwnerID)
				}),
		},
	}
}
