package api

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
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
	// VerifyDraw recomputes a draw from the event store; ownerID must own its
	// campaign. commands.ErrDrawNotFound for an unknown draw.
	VerifyDraw(ctx context.Context, drawID uuid.UUID, ownerID string) (commands.DrawVerification, error)
}

// Readiness answers /readyz: database reachable, migrations applied.
type Readiness interface {
	Ready(ctx context.Context) error
}

// Queries is the read side (projections). Rows carry raw names and phones;
// the api masks them, so a read model never has to know who is asking.
type Queries interface {
	// Participants returns one page, newest first, and the filtered total.
	Participants(ctx context.Context, eventID uuid.UUID, filter ParticipantFilter) (ParticipantPage, error)
	// EachParticipant calls fn for every participant of the campaign in a
	// stable order, in constant memory; it stops at fn's first error and
	// returns it.
	EachParticipant(ctx context.Context, eventID uuid.UUID, fn func(ParticipantRow) error) error
	// Winners returns the campaign's winners by rank; none before the draw.
	Winners(ctx context.Context, eventID uuid.UUID) ([]WinnerRow, error)
	// DrawLogs returns the campaign's draw logs (at most one: a draw is final).
	DrawLogs(ctx context.Context, eventID uuid.UUID) ([]domain.WinnersDrawn, error)
	// DrawLog returns one draw log; found is false when there is none.
	DrawLog(ctx context.Context, drawLogID uuid.UUID) (log domain.WinnersDrawn, found bool, err error)
	// Analytics returns the campaign's current figures (zero when none).
	Analytics(ctx context.Context, eventID uuid.UUID) (Analytics, error)
	// SubscribeAnalytics signals changes to the campaign's figures. The
	// channel may coalesce signals; cancel releases the subscription.
	SubscribeAnalytics(ctx context.Context, eventID uuid.UUID) (changes <-chan struct{}, cancel func())
}

// ParticipantFilter selects a page of participants.
type ParticipantFilter struct {
	EntryPath string // upper case; "" means every channel
	Winner    *bool  // nil means both
	Page      int    // 1-based
	Size      int    // 1..100
}

// ParticipantPage is one page and the number of participants matching the filter.
type ParticipantPage struct {
	Items      []ParticipantRow
	TotalCount int64
}

// ParticipantRow is one participant as the read model holds it.
type ParticipantRow struct {
	ParticipantID  uuid.UUID
	EntryNumber    string
	Name           string // raw; the api masks it
	Phone          string // raw, normalized; the api masks it
	EntryPath      string
	ParticipatedAt time.Time
	StoreVisited   bool
	Winner         bool
}

// WinnerRow is one winner as the read model holds it.
type WinnerRow struct {
	ParticipantID uuid.UUID
	EntryNumber   string
	Name          string // raw; the api masks it
	Phone         string // raw; the api masks it
	Rank          int
}

// Analytics is a campaign's channel figures.
type Analytics struct {
	EventID           uuid.UUID
	TotalParticipants int64
	ByChannel         map[string]int64
	ByHour            []HourCount
	StoreVisits       int64
	Winners           int64
	UpdatedAt         time.Time
}

// HourCount is the participants of one hour; the api shows Hour in Asia/Seoul.
type HourCount struct {
	Hour  time.Time
	Count int64
}
