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
		stored, err := tx.ReadPartition(ctx, cmd.EventID.String(), candidateEventTypes, 0)
		if err != nil {
			return err
		}
		pool, err := candidatesFrom(stored)
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
		outcome = DrawOutcome{DrawID: drawn.DrawID, Winners: make([]DrawnWinner, len(drawn.Winners))}
		for i, w := range drawn.Winners {
			reg := pool.registrations[w.ParticipantID]
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

var candidateEventTypes = []string{domain.TypeParticipantRegistered, domain.TypeStoreVisitRecorded}

// candidatePool is a campaign's participants as the store had them at a cut-off.
type candidatePool struct {
	candidates    []domain.Candidate
	registrations map[uuid.UUID]domain.ParticipantRegistered
	cutoff        int64
}

func candidatesFrom(stored []eventstore.RecordedEvent) (candidatePool, error) {
	pool := candidatePool{registrations: map[uuid.UUID]domain.ParticipantRegistered{}}
	index := map[uuid.UUID]int{}
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return candidatePool{}, fmt.Errorf("candidates at %d: %w", rec.Position, err)
		}
		switch e := e.(type) {
		case domain.ParticipantRegistered:
			index[e.ParticipantID] = len(pool.candidates)
			pool.candidates = append(pool.candidates, domain.Candidate{ParticipantID: e.ParticipantID, EntryNumber: e.EntryNumber})
			pool.registrations[e.ParticipantID] = e
		case domain.StoreVisitRecorded:
			if i, ok := index[e.ParticipantID]; ok {
				pool.candidates[i].Visited = true
			}
		}
		pool.cutoff = max(pool.cutoff, rec.Position)
	}
	return pool, nil
}
