package projections

import (
	"time"

	"github.com/google/uuid"
)

// The types below mirror api/ports.go field for field, so that the api can
// alias them. Name and Phone are already masked: the read models never hold
// the raw values.

// ParticipantFilter selects a page of participants.
type ParticipantFilter struct {
	EntryPath string // upper case; "" means every channel
	Winner    *bool  // nil means both
	Page      int    // 1-based
	Size      int    // 1..100, checked by the api
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
	Name           string // masked: "김**"
	Phone          string // masked: "010-****-5678"
	EntryPath      string
	ParticipatedAt time.Time
	StoreVisited   bool
	Winner         bool
	Erased         bool // personal data erased: Name and Phone are empty
}

// WinnerRow is one winner as the read model holds it.
type WinnerRow struct {
	ParticipantID uuid.UUID
	EntryNumber   string
	Name          string    // masked
	Phone         string    // masked
	ListedName    string    // masked as the public result lists it (first and last letter)
	Rank          int       // within its kind
	Kind          string    // WinnerKind or AlternateKind
	ClaimedAt     time.Time // the winner's PrizeClaimed; zero while unclaimed
	// ReplacedReason and ReplacedAt: an alternate took this winner's rank
	// (WinnerReplaced); empty and zero otherwise.
	ReplacedReason string
	ReplacedAt     time.Time
	// PromotedRank is the winner's rank a promoted alternate took (0: none).
	PromotedRank int
	// ClaimDeadline is the row's claim deadline: a promoted alternate's own
	// (winners.claim_deadline), else the campaign's claimDeadline (from the
	// campaigns read model); zero when that model does not have it yet.
	ClaimDeadline time.Time
	// Erased: the winner's personal data was erased (the participants read
	// model's flag), so the owner sees 삭제됨 and nothing to reveal.
	Erased bool
}

// Analytics is a campaign's channel figures.
type Analytics struct {
	EventID           uuid.UUID
	TotalParticipants int64
	ByChannel         map[string]int64
	ByHour            []HourCount // ascending
	StoreVisits       int64
	Winners           int64
	Claimed           int64 // winners who claimed (PrizeClaimed)
	UpdatedAt         time.Time
}

// HourCount is the participants of one hour; Hour is the start of the hour
// in Asia/Seoul (its Location is Asia/Seoul).
type HourCount struct {
	Hour  time.Time
	Count int64
}
