package commands

// Application is what the service can do, split by intent: Commands decide
// and append, Queries read and never append. The API holds each handler
// behind the port of the routes that call it.
type Application struct {
	Commands Commands
	Queries  Queries
}

// Commands holds one handler per command, each in its own file.
type Commands struct {
	OpenCampaign        OpenCampaignHandler
	RegisterParticipant RegisterParticipantHandler
	RecordStoreVisit    RecordStoreVisitHandler
	DrawWinners         DrawWinnersHandler
	CompleteDrandDraw   CompleteDrandDrawHandler
	EraseMyData         EraseMyDataHandler
	EraseParticipant    EraseParticipantHandler
	RevealWinnerContact RevealWinnerContactHandler
	RevealDelivery      RevealDeliveryHandler
	ClaimPrize          ClaimPrizeHandler
	ReplaceWinner       ReplaceWinnerHandler
	RequestVerification RequestVerificationHandler
	RunRetention        RunRetentionHandler
}

// Queries holds the reads made from the event store: the owner's
// authorization and reads, the public ones (the campaign, 당첨 확인, the
// certificate) and the draw's verification. The read models' queries are
// projections'.
type Queries struct {
	AuthorizeOwner    AuthorizeOwnerHandler
	Campaign          CampaignHandler
	CheckResult       CheckResultHandler
	Certificates      Certificates
	VerifyDraw        VerifyDrawHandler
	ContactReveals    ContactRevealsHandler
	PendingDrandDraws PendingDrandDrawsHandler
}

// newApplication puts every handler over the one core, so they share its
// caches.
func newApplication(c *core) Application {
	return Application{
		Commands: Commands{
			OpenCampaign:        OpenCampaignHandler{c},
			RegisterParticipant: RegisterParticipantHandler{c},
			RecordStoreVisit:    RecordStoreVisitHandler{c},
			DrawWinners:         DrawWinnersHandler{c},
			CompleteDrandDraw:   CompleteDrandDrawHandler{c},
			EraseMyData:         EraseMyDataHandler{c},
			EraseParticipant:    EraseParticipantHandler{c},
			RevealWinnerContact: RevealWinnerContactHandler{c},
			RevealDelivery:      RevealDeliveryHandler{c},
			ClaimPrize:          ClaimPrizeHandler{c},
			ReplaceWinner:       ReplaceWinnerHandler{c},
			RequestVerification: RequestVerificationHandler{c},
			RunRetention:        RunRetentionHandler{c},
		},
		Queries: Queries{
			AuthorizeOwner:    AuthorizeOwnerHandler{c},
			Campaign:          CampaignHandler{c},
			CheckResult:       CheckResultHandler{c},
			Certificates:      Certificates{c},
			VerifyDraw:        VerifyDrawHandler{c},
			ContactReveals:    ContactRevealsHandler{c},
			PendingDrandDraws: PendingDrandDrawsHandler{c},
		},
	}
}
