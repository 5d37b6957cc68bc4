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
	Rank    int        // the winner's or the alternate's rank; 0 for NOT_WON
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

// CheckResult decides a participant's outcome in a drawn result at now: a
// winner's claim is open until claimDeadline (exclusive), closed from then.
func CheckResult(d WinnersDrawn, participant uuid.UUID, claimDeadline, now time.Time) ResultCheck {
	for _, w := range d.Winners {
		if w.ParticipantID == participant {
			state := ClaimOpen
			if !now.Before(claimDeadline) {
				state = ClaimClosed
			}
			return ResultCheck{Outcome: OutcomeWon, Rank: w.Rank, Claim: &ClaimView{State: state, Deadline: claimDeadline.UTC()}}
		}
	}
	for _, w := range d.Alternates {
		if w.ParticipantID == participant {
			return ResultCheck{Outcome: OutcomeAlternate, Rank: w.Rank}
		}
	}
	return ResultCheck{Outcome: OutcomeNotWon}
}
