package domain

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ErrParticipantErased refuses what needs personal data that was erased (409).
var ErrParticipantErased = errors.New("participant erased")

// ErrNotWinner refuses a contact reveal for a participant who did not win (404).
var ErrNotWinner = errors.New("not a winner")

// Participant is one registration folded from its participant stream.
type Participant struct {
	ID          uuid.UUID
	EventID     uuid.UUID
	EntryNumber string
	EntryPath   EntryPath
	Visited     bool
	Erased      bool
	// ClaimedAt is when the winner claimed the prize (zero: not claimed).
	ClaimedAt time.Time
	// Version is the participant stream's version (1 after registration).
	Version int64
}

// Apply folds the participant stream's events (values or pointers).
func (p Participant) Apply(events ...any) (Participant, error) {
	for _, e := range events {
		switch e := e.(type) {
		case ParticipantRegistered:
			p = participantFrom(e)
		case *ParticipantRegistered:
			p = participantFrom(*e)
		case StoreVisitRecorded, *StoreVisitRecorded:
			p.Visited = true
			p.Version++
		case ParticipantErased, *ParticipantErased:
			p.Erased = true
			p.Version++
		case WinnerContactRevealed, *WinnerContactRevealed, DeliveryRevealed, *DeliveryRevealed:
			p.Version++
		case NotificationSent, *NotificationSent, NotificationFailed, *NotificationFailed:
			p.Version++ // the notifier's record: nothing a command decides on
		case PrizeClaimed:
			p.ClaimedAt = e.ClaimedAt
			p.Version++
		case *PrizeClaimed:
			p.ClaimedAt = e.ClaimedAt
			p.Version++
		default:
			return p, fmt.Errorf("participant %s: cannot apply %T", p.ID, e)
		}
	}
	return p, nil
}

func participantFrom(e ParticipantRegistered) Participant {
	return Participant{ID: e.ParticipantID, EventID: e.EventID, EntryNumber: e.EntryNumber, EntryPath: e.EntryPath, Version: 1}
}

// RecordVisit decides a store visit at now. Recording is idempotent: a
// participant already marked as visited yields no event (ok is false) and
// the caller answers 200 all the same. An erased participant is gone for
// the owner: ErrParticipantNotFound.
func (p Participant) RecordVisit(now time.Time) (e StoreVisitRecorded, ok bool, err error) {
	if p.Erased {
		return StoreVisitRecorded{}, false, ErrParticipantNotFound
	}
	if p.Visited {
		return StoreVisitRecorded{}, false, nil
	}
	return StoreVisitRecorded{ParticipantID: p.ID, EventID: p.EventID, VisitedAt: now.UTC()}, true, nil
}

// Erase decides the erasure of the participant's personal data. It is
// idempotent: an erased participant yields no event (ok is false).
func (p Participant) Erase(reason, by string, now time.Time) (e ParticipantErased, ok bool, err error) {
	if reason != ErasedOnRequest && reason != ErasedByRetention {
		return ParticipantErased{}, false, fmt.Errorf("erase: unknown reason %q", reason)
	}
	if p.Erased {
		return ParticipantErased{}, false, nil
	}
	return ParticipantErased{ParticipantID: p.ID, EventID: p.EventID, Reason: reason, ErasedAt: now.UTC(), ErasedBy: by}, true, nil
}

// RevealContact decides that owner by sees the winner's contact at now:
// ErrNotWinner unless won, ErrParticipantErased once erased.
func (p Participant) RevealContact(won bool, by string, now time.Time) (WinnerContactRevealed, error) {
	if !won {
		return WinnerContactRevealed{}, ErrNotWinner
	}
	if p.Erased {
		return WinnerContactRevealed{}, ErrParticipantErased
	}
	return WinnerContactRevealed{ParticipantID: p.ID, EventID: p.EventID, RevealedBy: by, RevealedAt: now.UTC()}, nil
}

// RetentionDue says whether retention erases a participant at now: winners
// keep their data for winners after announceAt (prize delivery), everyone
// else for nonWinners.
func RetentionDue(announceAt time.Time, won bool, nonWinners, winners time.Duration, now time.Time) bool {
	keep := nonWinners
	if won {
		keep = winners
	}
	return !now.Before(announceAt.Add(keep))
}
