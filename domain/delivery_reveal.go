package domain

import (
	"errors"
	"time"
)

// ErrNotClaimed refuses the delivery reveal of a winner who has not
// claimed: there is nothing to reveal yet (409).
var ErrNotClaimed = errors.New("prize not claimed")

// RevealDelivery decides that owner by sees the winner's delivery details
// at now. A participant who claimed was a winner when claiming, whatever
// won says since; otherwise ErrNotWinner unless won. Then
// ErrParticipantErased once erased (the details were shredded with the
// key), and ErrNotClaimed before the claim.
func (p Participant) RevealDelivery(won bool, by string, now time.Time) (DeliveryRevealed, error) {
	claimed := !p.ClaimedAt.IsZero()
	if !won && !claimed {
		return DeliveryRevealed{}, ErrNotWinner
	}
	if p.Erased {
		return DeliveryRevealed{}, ErrParticipantErased
	}
	if !claimed {
		return DeliveryRevealed{}, ErrNotClaimed
	}
	return DeliveryRevealed{ParticipantID: p.ID, EventID: p.EventID, RevealedBy: by, RevealedAt: now.UTC()}, nil
}

// ClaimState is a winner's claim state at now: CLAIMED once claimed (zero
// claimedAt: not), else OPEN until deadline (exclusive) and CLOSED from it,
// the rule the claim itself follows (Participant.Claim).
func ClaimState(claimedAt, deadline, now time.Time) string {
	switch {
	case !claimedAt.IsZero():
		return ClaimClaimed
	case now.Before(deadline):
		return ClaimOpen
	}
	return ClaimClosed
}
