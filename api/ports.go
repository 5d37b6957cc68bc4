package api

import (
	"context"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

// Commands is the write side the server needs; cmd wires the real handlers.
type Commands interface {
	OpenCampaign(ctx context.Context, cmd commands.OpenCampaign) (domain.CampaignOpened, error)
	RegisterParticipant(ctx context.Context, cmd commands.RegisterParticipant) (commands.Registration, error)
	RecordStoreVisit(ctx context.Context, cmd commands.RecordStoreVisit) error
	DrawWinners(ctx context.Context, cmd commands.DrawWinners) (commands.DrawOutcome, error)
	// CampaignOwner returns domain.ErrCampaignNotFound for an unknown campaign.
	// It authorizes owner reads (403 vs 404) before anything else is read.
	CampaignOwner(ctx context.Context, eventID uuid.UUID) (string, error)
	// Campaign returns the campaign with Drawn loaded, for its public page;
	// domain.ErrCampaignNotFound for an unknown campaign.
	Campaign(ctx context.Context, eventID uuid.UUID) (domain.Campaign, error)
	// VerifyDraw recomputes a draw from the event store; ownerID must own its
	// campaign. commands.ErrDrawNotFound for an unknown draw.
	VerifyDraw(ctx context.Context, drawID uuid.UUID, ownerID string) (commands.DrawVerification, error)
	// EraseMyData is the customer's erasure: domain.ErrParticipantNotFound
	// unless phone and entry number both match.
	EraseMyData(ctx context.Context, cmd commands.EraseMyData) error
	// CheckResult is 당첨 확인: domain.ErrNotAnnounced before the result,
	// ErrParticipantNotFound (behind the lockout) or ErrEntryErased, both 404.
	CheckResult(ctx context.Context, cmd commands.CheckResult) (domain.ResultCheck, error)
	// ClaimPrize is a winner's claim: 409s before the result, after the
	// deadline and for a second claim; mismatches and non-winners 404.
	ClaimPrize(ctx context.Context, cmd commands.ClaimPrize) (domain.PrizeClaimed, error)
	// EraseParticipant is the owner's erasure, on the customer's request.
	EraseParticipant(ctx context.Context, cmd commands.EraseParticipant) error
	// RevealWinnerContact returns a winner's unmasked contact, recorded.
	RevealWinnerContact(ctx context.Context, cmd commands.RevealWinnerContact) (domain.PersonalData, error)
	// ReplaceWinner is 교체: the first unused alternate takes a winner's
	// rank; 409s CLAIM_STILL_OPEN, NO_ALTERNATE, ALREADY_REPLACED, ...
	ReplaceWinner(ctx context.Context, cmd commands.ReplaceWinner) (commands.Replacement, error)
	// RevealDelivery returns a claimed winner's delivery details, recorded.
	RevealDelivery(ctx context.Context, cmd commands.RevealDelivery) (commands.DeliveryReveal, error)
	// RequestVerification sends a phone verification code:
	// domain.ErrVerificationOff when verification is off, a
	// *domain.VerificationTooSoonError within the resend limit.
	RequestVerification(ctx context.Context, cmd commands.RequestVerification) (commands.VerificationSent, error)
	// ContactReveals lists the campaign's contact and delivery reveals.
	ContactReveals(ctx context.Context, eventID uuid.UUID, ownerID string) ([]commands.ContactReveal, error)
}

// Idempotency keeps the first answer to each (scope, key);
// eventstore.IdempotencyKeys is the PostgreSQL one.
type Idempotency interface {
	// Fingerprint identifies a request's path and body: a keyed hash,
	// since a body holds a name and a phone.
	Fingerprint(path string, body []byte) []byte
	// Claim reserves the key for this request, or reports the request that
	// holds it: its fingerprint and, once it answered, its answer.
	Claim(ctx context.Context, scope, key string, fingerprint []byte) (commands.IdempotencyClaim, error)
	// Complete stores the claimer's answer (linked to answer.Subject, whose
	// erasure deletes it).
	Complete(ctx context.Context, scope, key string, answer commands.IdempotentAnswer) error
	// Release gives the key up so that a retry runs again.
	Release(ctx context.Context, scope, key string) error
	// Lookup reports the request that holds the key (found): its
	// fingerprint and, once it answered, its answer.
	Lookup(ctx context.Context, scope, key string) (claim commands.IdempotencyClaim, found bool, err error)
	// Write is the key as a command claims it with its append, in the
	// append's transaction; the caller sets the answers.
	Write(scope, key string, fingerprint []byte) *commands.IdempotentWrite
}

// Readiness answers /readyz: database reachable, migrations applied. One
// call gives both the verdict and, when ready, each dependency's state for
// the answer ({"database": "ok", "kafka": "unreachable"}; nil leaves it
// out): a broker away is reported without making the instance unready.
// Asking twice could pair a verdict with another check's states.
type Readiness interface {
	Ready(ctx context.Context) (checks map[string]string, err error)
}

// CampaignCheck returns nil when the campaign exists,
// domain.ErrCampaignNotFound when it does not, and another error when the
// store could not tell.
type CampaignCheck func(ctx context.Context, eventID uuid.UUID) error

// Queries is the read side (projections). Rows carry raw names and phones;
// the api masks them, so a read model never has to know who is asking.
type Queries interface {
	// Participants returns one page, newest first, and the filtered total.
	Participants(ctx context.Context, eventID uuid.UUID, filter ParticipantFilter) (ParticipantPage, error)
	// EachParticipant calls fn for every participant of the campaign in a
	// stable order, in constant memory; it stops at fn's first error and
	// returns it.
	EachParticipant(ctx context.Context, eventID uuid.UUID, fn func(ParticipantRow) error) error
	// Winners returns the campaign's winners by rank, then its alternates
	// by rank; none before the draw.
	Winners(ctx context.Context, eventID uuid.UUID) ([]WinnerRow, error)
	// DrawLogs returns the campaign's draw logs (at most one: a draw is final).
	DrawLogs(ctx context.Context, eventID uuid.UUID) ([]DrawLog, error)
	// DrawLog returns one draw log; found is false when there is none.
	DrawLog(ctx context.Context, drawLogID uuid.UUID) (log DrawLog, found bool, err error)
	// Analytics returns the campaign's current figures (zero when none).
	Analytics(ctx context.Context, eventID uuid.UUID) (Analytics, error)
	// SubscribeAnalytics signals changes to the campaign's figures. The
	// channel may coalesce signals; cancel releases the subscription.
	SubscribeAnalytics(ctx context.Context, eventID uuid.UUID) (changes <-chan struct{}, cancel func())
}

// Campaigns is the campaigns read model: the owner's dashboard list.
type Campaigns interface {
	// Campaigns returns one page of the owner's campaigns, newest first,
	// and the owner's total.
	Campaigns(ctx context.Context, ownerID string, f CampaignFilter) (CampaignPage, error)
}

// AlternateKind marks an alternate among the winners read model's rows.
const AlternateKind = projections.AlternateKind

// The read side's types are the projections' own. Names and phones in the
// rows are already masked: the read models never hold the raw values.
type (
	ParticipantFilter = projections.ParticipantFilter
	ParticipantPage   = projections.ParticipantPage
	ParticipantRow    = projections.ParticipantRow
	WinnerRow         = projections.WinnerRow
	DrawLog           = projections.DrawLog
	Analytics         = projections.Analytics
	HourCount         = projections.HourCount
	CampaignFilter    = projections.CampaignFilter
	CampaignPage      = projections.CampaignPage
	CampaignRow       = projections.CampaignRow
)
