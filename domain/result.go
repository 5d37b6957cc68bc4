package domain

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrNotAnnounced refuses 당첨 확인 (and a claim) before the campaign's
// announceAt, or while no result is drawn yet (409 NOT_ANNOUNCED).
var ErrNotAnnounced = errors.New("result not announced")

// Outcomes of 당첨 확인.
const (
	OutcomeWon       = "WON"
	OutcomeAlternate = "ALTERNATE"
	OutcomeNotWon    = "NOT_WON"
)

// Claim states of a winner.
const (
	ClaimOpen   = "OPEN"
	ClaimClosed = "CLOSED"
)

// ResultCheck is what 당첨 확인 tells a participant of their own entry.
type ResultCheck struct {
	Outcome string
	Rank    int        // the winner's, the alternate's or the lost rank; 0 for NOT_WON
	Reason  string     // REPLACED: why (WinnerReplaced.reason)
	Claim   *ClaimView // winners only
	// Proof is the entry's inclusion proof in a v2 draw's tree (nil for a
	// v1 draw or an entry that was not a candidate); DrawID names the draw
	// whose leaf it proves, which the entrant needs to rebuild the leaf.
	Proof  *DrawProof
	DrawID uuid.UUID
}

// ClaimView is a winner's claim window as they see it.
type ClaimView struct {
	State    string
	Deadline time.Time
}

// CheckResult decides a participant's outcome in a drawn result without
// replacements at now (DrawState.Check with its replacements).
func CheckResult(d WinnersDrawn, participant uuid.UUID, claimDeadline, now time.Time) ResultCheck {
	s, _ := DrawState{}.Apply(d) // a result alone always folds
	return s.Check(participant, claimDeadline, now)
}
