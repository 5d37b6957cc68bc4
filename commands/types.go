// Package commands is the application layer, Application{Commands,
// Queries}: one file per command or query, with its struct and its handler
// type (Handle). A command handler loads a stream, asks the domain, and
// appends at the expected version; a query handler reads the event store
// and never appends. Rules live in domain, transactions in eventstore. The
// handlers share one core: the store, the keys and the per-process caches.
package commands

import (
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// OpenCampaign opens a campaign (the platform's event service does this in
// production). A zero EventID means "generate one".
type OpenCampaign struct {
	EventID    uuid.UUID
	OwnerID    string
	Title      string
	StartsAt   time.Time
	EndsAt     time.Time
	AnnounceAt time.Time
	// ClaimDeadline ends the winners' claims; zero takes the default
	// (domain.ClaimWindow after AnnounceAt).
	ClaimDeadline time.Time
	Meta          Meta
}

// RegisterParticipant is a customer joining a campaign.
type RegisterParticipant struct {
	EventID        uuid.UUID
	Name           string
	Phone          string
	EntryPath      string
	PrivacyConsent bool
	// VerificationCode is the code sent to Phone (PHONE_VERIFICATION=otp);
	// ignored with verification off.
	VerificationCode string
	Meta             Meta
	// Idempotency, when set, claims the request's Idempotency-Key and
	// stores its answer in the registration's transaction.
	Idempotency *RegistrationIdempotency
}

// Registration is what a customer is told after registering.
type Registration struct {
	ParticipantID uuid.UUID
	EntryNumber   string
	AnnounceAt    time.Time
}

// RecordStoreVisit marks a participant as having visited the store. It is
// idempotent: a second visit changes nothing and is not an error.
type RecordStoreVisit struct {
	EventID     uuid.UUID
	EntryNumber string
	OwnerID     string
	Meta        Meta
}

// DrawWinners draws the campaign's winners once and for all.
type DrawWinners struct {
	EventID          uuid.UUID
	OwnerID          string
	WinnerCount      int
	AlternateCount   int // 예비 당첨자, drawn after the winners; 0 for none
	VisitBonus       bool
	VisitBonusWeight int // 0 means the default
	Meta             Meta
}

// DrawnWinner is a winner with its masked personal data (privacy.Mask):
// the answer shows what the read models show, masked by the same code.
type DrawnWinner struct {
	ParticipantID uuid.UUID
	EntryNumber   string
	Name          string // masked: 김**; empty once erased
	Phone         string // masked: 010-****-5678; empty once erased
	Rank          int
}

// DrawOutcome is the answer to DrawWinners.
type DrawOutcome struct {
	DrawID     uuid.UUID
	Winners    []DrawnWinner
	Alternates []DrawnWinner // ranks 1..AlternateCount
	// Pending is a drand draw committed whose round did not come within
	// DRAW_WAIT (or was refused): no winners yet.
	Pending *PendingDraw
}

// Meta is the request context recorded with every event.
type Meta struct {
	CorrelationID string
	Actor         string
}

// EraseMyData is a customer asking to erase their own registration: the
// phone and the entry number must both match it.
type EraseMyData struct {
	EventID     uuid.UUID
	Phone       string
	EntryNumber string
	// VerificationCode: as RegisterParticipant's.
	VerificationCode string
	Meta             Meta
}

// EraseParticipant is the owner erasing a participant on the customer's request.
type EraseParticipant struct {
	EventID     uuid.UUID
	EntryNumber string
	OwnerID     string
	Meta        Meta
}

// RevealWinnerContact is the owner asking for a winner's contact, to deliver the prize.
type RevealWinnerContact struct {
	EventID     uuid.UUID
	EntryNumber string
	OwnerID     string
	Meta        Meta
}

// RevealDelivery is the owner asking for a claimed winner's delivery
// details, to send the prize.
type RevealDelivery struct {
	EventID     uuid.UUID
	EntryNumber string
	OwnerID     string
	Meta        Meta
}

// DeliveryReveal is a winner's delivery details, opened, and when the
// winner claimed.
type DeliveryReveal struct {
	Delivery  domain.Delivery
	ClaimedAt time.Time
}

// Kinds of reveal in the audit list.
const (
	RevealKindContact  = "CONTACT"
	RevealKindDelivery = "DELIVERY"
)

// ContactReveal is one WinnerContactRevealed or DeliveryRevealed, for the
// audit list; Kind says which (RevealKindContact, RevealKindDelivery).
type ContactReveal struct {
	Kind          string
	ParticipantID uuid.UUID
	EntryNumber   string
	RevealedBy    string
	RevealedAt    time.Time
}
