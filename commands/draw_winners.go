package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

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
		// The store's inline candidates table, read under the fence: exactly
		// the committed registrations, erased ones left out.
		candidates, cutoff, err := tx.DrawCandidates(ctx, cmd.EventID.String())
		if err != nil {
			return err
		}
		var seed [32]byte
		if _, err := io.ReadFull(h.random, seed[:]); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		drawn, err := campaign.DrawWinnersAmong(domain.DrawRequest{
			DrawID:         uuid.New(),
			Options:        domain.DrawOptions{WinnerCount: cmd.WinnerCount, VisitBonus: cmd.VisitBonus, VisitBonusWeight: cmd.VisitBonusWeight},
			Seed:           seed,
			CutoffPosition: cutoff,
			DrawnAt:        h.clock(),
			DrawnBy:        cmd.OwnerID,
		}, candidates)
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
		personal, err := h.winnersPersonalData(ctx, tx, drawn.Winners)
		if err != nil {
			return err
		}
		outcome = DrawOutcome{DrawID: drawn.DrawID, Winners: make([]DrawnWinner, len(drawn.Winners))}
		for i, w := range drawn.Winners {
			pd := personal[w.ParticipantID]
			outcome.Winners[i] = DrawnWinner{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber,
				Name: pd.Name, Phone: pd.Phone, Rank: w.Rank}
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
	// A replay of the partition up to a cut-off gives the candidates again (verify).
	candidateEventTypes = []string{domain.TypeParticipantRegistered, domain.TypeStoreVisitRecorded, domain.TypeParticipantErased}
	// Only what the draw needs is read: a million candidates stay cheap.
	candidateFields = []string{"participantId", "entryNumber"}
)

// candidatePool is a campaign's participants as the store had them at a cut-off.
type candidatePool struct {
	candidates []domain.Candidate
	cutoff     int64
}

// candidatesFrom replays a partition's candidate events (verify reads them
// from the log, not from the table the draw used).
func candidatesFrom(rows []eventstore.FieldRow) (candidatePool, error) {
	var pool candidatePool
	index := make(map[uuid.UUID]int, len(rows))
	erased := map[uuid.UUID]bool{}
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
		case domain.TypeParticipantErased:
			erased[id] = true
		}
		pool.cutoff = max(pool.cutoff, row.Position)
	}
	if len(erased) > 0 {
		pool.candidates = slices.DeleteFunc(pool.candidates, func(c domain.Candidate) bool { return erased[c.ParticipantID] })
	}
	return pool, nil
}

// winnersPersonalData opens the winners' personal data, for the masked
// answer; an erased winner's is empty.
func (h *Handlers) winnersPersonalData(ctx context.Context, tx *eventstore.Tx, winners []domain.Winner) (map[uuid.UUID]domain.PersonalData, error) {
	streams := make([]string, len(winners))
	ids := make([]uuid.UUID, len(winners))
	for i, w := range winners {
		streams[i], ids[i] = domain.ParticipantStream(w.ParticipantID), w.ParticipantID
	}
	stored, err := tx.ReadStreamsOfType(ctx, streams, domain.TypeParticipantRegistered)
	if err != nil {
		return nil, err
	}
	keys, err := tx.SubjectKeys(ctx, ids)
	if err != nil {
		return nil, err
	}
	return h.openAll(stored, keys)
}

// openAll opens stored registrations with their subject keys: a schema-1
// event's clear values, a sealed one's opened, an erased one's empty.
func (h *Handlers) openAll(stored []eventstore.RecordedEvent, keys map[uuid.UUID][]byte) (map[uuid.UUID]domain.PersonalData, error) {
	out := make(map[uuid.UUID]domain.PersonalData, len(stored))
	for _, rec := range stored {
		e, err := domain.DecodeStored(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return nil, err
		}
		reg, ok := e.(domain.ParticipantRegistered)
		if !ok {
			continue
		}
		pd, err := h.keys.OpenRegistration(reg, keys[reg.ParticipantID])
		if err != nil {
			return nil, fmt.Errorf("participant at %d: %w", rec.Position, err)
		}
		out[reg.ParticipantID] = pd
	}
	return out, nil
}
