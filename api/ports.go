package api

import (
	"context"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

// Handler is one command's or query's handler: commands.Application's
// handlers are the real ones, each behind the port of the routes that call it.
type Handler[C, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// Action is a handler whose only answer is its error.
type Action[C any] interface {
	Handle(ctx context.Context, cmd C) error
}

// HandlerFunc is a function as a Handler.
type HandlerFunc[C, R any] func(ctx context.Context, cmd C) (R, error)

// Handle calls f.
func (f HandlerFunc[C, R]) Handle(ctx context.Context, cmd C) (R, error) { return f(ctx, cmd) }

// ActionFunc is a function as an Action.
type ActionFunc[C any] func(ctx context.Context, cmd C) error

// Handle calls f.
func (f ActionFunc[C]) Handle(ctx context.Context, cmd C) error { return f(ctx, cmd) }

// App is what the routes call, split by who calls: a nil handler answers 503.
type App struct {
	Customers Customers
	Owners    Owners
}

// Customers is what the public routes call: a stranger's commands and the
// public reads, nothing of an owner's.
type Customers struct {
	// Campaign returns the campaign with Drawn loaded, for its public page
	// and the result; domain.ErrCampaignNotFound for an unknown campaign.
	Campaign Handler[uuid.UUID, domain.Campaign]
	Register Handler[commands.RegisterParticipant, commands.Registration]
	// RequestVerification sends a phone verification code:
	// domain.ErrVerificationOff when verification is off, a
	// *domain.VerificationTooSoonError within the resend limit.
	RequestVerification Handler[commands.RequestVerification, commands.VerificationSent]
	// EraseMyData is the customer's erasure: domain.ErrParticipantNotFound
	// unless phone and entry number both match.
	EraseMyData Action[commands.EraseMyData]
	// CheckResult is 당첨 확인: domain.ErrNotAnnounced before the result,
	// ErrParticipantNotFound (behind the lockout) or ErrEntryErased, both 404.
	CheckResult Handler[commands.CheckResult, domain.ResultCheck]
	// ClaimPrize is a winner's claim: 409s before the result, after the
	// deadline and for a second claim; mismatches and non-winners 404.
	ClaimPrize Handler[commands.ClaimPrize, domain.PrizeClaimed]
}

// Owners is what the owner routes call.
type Owners struct {
	// Authorize is nil when the owner owns the campaign,
	// domain.ErrNotOwner (403) when another owner does, and
	// domain.ErrCampaignNotFound for an unknown campaign. It runs before
	// anything else of the campaign is read.
	Authorize Action[commands.AuthorizeOwner]
	// Campaign is the campaign with Drawn loaded (its claim deadline).
	Campaign         Handler[uuid.UUID, domain.Campaign]
	OpenCampaign     Handler[commands.OpenCampaign, domain.CampaignOpened]
	RecordStoreVisit Action[commands.RecordStoreVisit]
	DrawWinners      Handler[commands.DrawWinners, commands.DrawOutcome]
	// VerifyDraw recomputes a draw from the event store; the owner must own
	// its campaign. commands.ErrDrawNotFound for an unknown draw.
	VerifyDraw Handler[commands.VerifyDraw, commands.DrawVerification]
	// EraseParticipant is the owner's erasure, on the customer's request.
	EraseParticipant Action[commands.EraseParticipant]
	// RevealWinnerContact returns a winner's unmasked contact, recorded.
	RevealWinnerContact Handler[commands.RevealWinnerContact, domain.PersonalData]
	// RevealDelivery returns a claimed winner's delivery details, recorded.
	RevealDelivery Handler[commands.RevealDelivery, commands.DeliveryReveal]
	// ReplaceWinner is 교체: the first unused alternate takes a winner's
	// rank; 409s CLAIM_STILL_OPEN, NO_ALTERNATE, ALREADY_REPLACED, ...
	ReplaceWinner Handler[commands.ReplaceWinner, commands.Replacement]
	// ContactReveals lists the campaign's contact and delivery reveals.
	ContactReveals Handler[commands.ContactReveals, []commands.ContactReveal]
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
