package app

import (
	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
)

// apiApp puts each of the application's handlers behind the port of the
// routes that call it: the public routes see only the customers' commands
// and the public reads.
func apiApp(a commands.Application) api.App {
	c, q := a.Commands, a.Queries
	return api.App{
		Customers: api.Customers{
			Campaign:            q.Campaign,
			Register:            c.RegisterParticipant,
			RequestVerification: c.RequestVerification,
			EraseMyData:         c.EraseMyData,
			CheckResult:         q.CheckResult,
			ClaimPrize:          c.ClaimPrize,
		},
		Owners: api.Owners{
			Authorize:           q.AuthorizeOwner,
			Campaign:            q.Campaign,
			OpenCampaign:        c.OpenCampaign,
			RecordStoreVisit:    c.RecordStoreVisit,
			DrawWinners:         c.DrawWinners,
			VerifyDraw:          q.VerifyDraw,
			EraseParticipant:    c.EraseParticipant,
			RevealWinnerContact: c.RevealWinnerContact,
			RevealDelivery:      c.RevealDelivery,
			ReplaceWinner:       c.ReplaceWinner,
			ContactReveals:      q.ContactReveals,
		},
	}
}
