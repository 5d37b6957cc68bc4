package domain

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Participant is one registration folded from its participant stream.
type Participant struct {
	ID          uuid.UUID
	EventID     uuid.UUID
	EntryNumber string
	EntryPath   EntryPath
	Visited     bool
	// Version is the participant stream's version (1 after registration).
	Version int64
}

// Apply folds ParticipantRegistered and StoreVisitRecorded (values or
// pointers) into the participant.
func (p Participant) Apply(events ...any) (Participant, error) {
	for _, e := range events {
		switch e := e.(type) {
		case ParticipantRegistered:
			p = participantFrom(e)
		case *ParticipantRegistered:
			p = participantFrom(*e)
		case StoreVisitRecorded:
			p.Visited = true
			p.Version++
		case *StoreVisitRecorded:
			p.Visited = true
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
// the caller answers 200 all the same.
func (p Participant) RecordVisit(now time.Time) (e StoreVisitRecorded, ok bool) {
	if p.Visited {
		return StoreVisitRecorded{}, false
	}
	return StoreVisitRecorded{ParticipantID: p.ID, EventID: p.EventID, VisitedAt: now.UTC()}, true
}
