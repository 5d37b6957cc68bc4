package commands

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// DrawWinners draws a campaign's winners, once. The draw holds the campaign's
// fence exclusively: registrations in flight finish first, so every one
// answered 201 before the draw is a candidate, and every later one finds the
// draw stream and is refused.
func (h *Handlers) DrawWinners(ctx context.Context, cmd DrawWinners) (DrawOutcome, error) {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return DrawOutcome{}, err
	}
	if err := campaign.CheckOwner(cmd.OwnerID); err != nil {
		return DrawOutcome{}, err
	}
	// A cheap early answer; the decisive check is inside the fence.
	if drawn, err := h.drawn(ctx, cmd.EventID); err != nil {
		return DrawOutcome{}, fmt.Errorf("draw: %w", err)
	} else if drawn {
		return DrawOutcome{}, domain.ErrAlreadyDrawn
	}

	var outcome DrawOutcome
	err = h.store.Exclusive(ctx, campaignFence(cmd.EventID), func(ctx context.Context, tx *eventstore.Tx) error {
		existing, err := tx.ReadStream(ctx, domain.DrawStream(cmd.EventID))
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			return domain.ErrAlreadyDrawn
		}
		rows, err := tx.ReadPartitionFields(ctx, cmd.EventID.String(), candidateEventTypes, 0, candidateFields)
		if err != nil {
			return err
		}
		pool, err := candidatesFrom(rows)
		if err != nil {
			return err
		}
		var seed [32]byte
		if _, err := io.ReadFull(h.random, seed[:]); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		drawn, err := campaign.DrawWinners(domain.DrawRequest{
			DrawID:         uuid.New(),
			Options:        domain.DrawOptions{WinnerCount: cmd.WinnerCount, VisitBonus: cmd.VisitBonus, VisitBonusWeight: cmd.VisitBonusWeight},
			Seed:           seed,
			CutoffPosition: pool.cutoff,
			DrawnAt:        h.clock(),
			DrawnBy:        cmd.OwnerID,
		}, pool.candidates)
		if err != nil {
			return err
		}
		data, err := toEventData(drawn, cmd.EventID, cmd.Meta)
		if err != nil {
			return err
		}
		_, err = tx.Append(ctx, eventstore.AppendRequest{
			Stream:   drawn.StreamID(),
			Expected: eventstore.NoStream,
			Events:   []eventstore.EventData{data},
			Keys:     []string{drawKey(drawn.DrawID)},
		})
		if err != nil {
			return err
		}
		registrations, err := winnersRegistrations(ctx, tx, drawn.Winners)
		if err != nil {
			return err
		}
		outcome = DrawOutcome{DrawID: drawn.DrawID, Winners: make([]DrawnWinner, len(drawn.Winners))}
		for i, w := range drawn.Winners {
			reg := registrations[w.ParticipantID]
			outcome.Winners[i] = DrawnWinner{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber,
				Name: reg.Name, Phone: reg.Phone, Rank: w.Rank}
		}
		return nil
	})
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		return DrawOutcome{}, domain.ErrAlreadyDrawn
	case err != nil:
		return DrawOutcome{}, fmt.Errorf("draw: %w", err)
	}
	return outcome, nil
}

var (
	candidateEventTypes = []string{domain.TypeParticipantRegistered, domain.TypeStoreVisitRecorded}
	// Only what the draw needs is read: a million candidates stay cheap.
	candidateFields = []string{"participantId", "entryNumber"}
)

// candidatePool is a campaign's participants as the store had them at a cut-off.
type candidatePool struct {
	candidates []domain.Candidate
	cutoff     int64
}

func candidatesFrom(rows []eventstore.FieldRow) (candidatePool, error) {
	var pool candidatePool
	index := make(map[uuid.UUID]int, len(rows))
	for _, row := range rows {
		id, err := uuid.Parse(row.Fields[0])
		if err != nil {
			return candidatePool{}, fmt.Errorf("candidates at %d: participantId: %w", row.Position, err)
		}
		switch row.Type {
		case domain.TypeParticipantRegistered:
			index[id] = len(pool.candidates)
			pool.candidates = append(pool.candidates, domain.Candidate{ParticipantID: id, EntryNumber: row.Fields[1]})
		case domain.TypeStoreVisitRecorded:
			if i, ok := index[id]; ok {
				pool.candidates[i].Visited = true
			}
		}
		pool.cutoff = max(pool.cutoff, row.Position)
	}
	return pool, nil
}

// winnersRegistrations reads the winners' registrations, for their names
// and phones in the answer.
func winnersRegistrations(ctx context.Context, tx *eventstore.Tx, winners []domain.Winner) (map[uuid.UUID]domain.ParticipantRegistered, error) {
	streams := make([]string, len(winners))
	for i, w := range winners {
		streams[i] = domain.ParticipantStream(w.ParticipantID)
	}
	stored, err := tx.ReadStreamsOfType(ctx, streams, domain.TypeParticipantRegistered)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]domain.ParticipantRegistered, len(stored))
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return nil, err
		}
		if reg, ok := e.(domain.ParticipantRegistered); ok {
			out[reg.ParticipantID] = reg
		}
	}
	return out, nil
}
