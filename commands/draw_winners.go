package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

// DrawWinnersHandler handles DrawWinners.
type DrawWinnersHandler struct{ *core }

// Handle draws a campaign's winners and alternates, once. With local
// randomness DrawCommitted and WinnersDrawn are one transaction; with drand
// (Config.Beacon) the commit names a round and the result follows when the
// round is in (drawWithDrand). The draw
// holds the campaign's fence exclusively: registrations in flight finish
// first, so every one answered 201 before the commit is a candidate, and
// every later one finds the draw stream and is refused.
func (h DrawWinnersHandler) Handle(ctx context.Context, cmd DrawWinners) (DrawOutcome, error) {
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

	if h.drandDraws {
		return h.drawWithDrand(ctx, campaign, cmd)
	}
	var outcome DrawOutcome
	err = h.store.Exclusive(ctx, campaignFence(cmd.EventID), func(ctx context.Context, tx *eventstore.Tx) error {
		commit, leaves, err := h.commitDraw(ctx, tx, campaign, cmd, h.clock(), domain.DrawRandomness{Source: domain.RandomnessLocal})
		if err != nil {
			return err
		}
		// The seed is taken after the candidates are fixed, in the same
		// transaction: nothing of it is known when the root is.
		var seed [32]byte
		if _, err := io.ReadFull(h.random, seed[:]); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		// the leaves carry entry numbers; the picks' participant ids are
		// read for them alone
		picks, err := leaves.Picks(seed, commit.WinnerCount, commit.AlternateCount)
		if err != nil {
			return err
		}
		ids, err := tx.ParticipantIDs(ctx, cmd.EventID.String(), picks)
		if err != nil {
			return err
		}
		drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seed, DrawnAt: h.clock(), DrawnBy: cmd.OwnerID, Participants: ids})
		if err != nil {
			return err
		}
		if err := appendDraw(ctx, tx, cmd.Meta, commit, drawn); err != nil {
			return err
		}
		outcome, err = h.drawOutcome(ctx, tx, drawn)
		return err
	})
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		return DrawOutcome{}, domain.ErrAlreadyDrawn
	case err != nil:
		return DrawOutcome{}, fmt.Errorf("draw: %w", err)
	}
	return outcome, nil
}

// commitDraw is a draw's first step, under the campaign's fence: the
// candidates at the cut-off and their commitment. A draw that waits for
// public randomness appends the commit alone; a local one completes at once.
func (h *core) commitDraw(ctx context.Context, tx *eventstore.Tx, campaign domain.Campaign, cmd DrawWinners,
	at time.Time, randomness domain.DrawRandomness) (domain.DrawCommitted, domain.DrawLeaves, error) {
	existing, err := tx.ReadStream(ctx, domain.DrawStream(cmd.EventID))
	if err != nil {
		return domain.DrawCommitted{}, domain.DrawLeaves{}, err
	}
	if len(existing) > 0 {
		return domain.DrawCommitted{}, domain.DrawLeaves{}, domain.ErrAlreadyDrawn
	}
	// The store's inline candidates table, read under the fence: exactly
	// the committed registrations, erased ones left out.
	candidates, cutoff, err := tx.DrawCandidates(ctx, cmd.EventID.String())
	if err != nil {
		return domain.DrawCommitted{}, domain.DrawLeaves{}, err
	}
	return campaign.CommitDraw(domain.DrawCommitRequest{
		DrawID: uuid.New(),
		Options: domain.DrawOptions{WinnerCount: cmd.WinnerCount, AlternateCount: cmd.AlternateCount,
			VisitBonus: cmd.VisitBonus, VisitBonusWeight: cmd.VisitBonusWeight},
		CutoffPosition: cutoff,
		Randomness:     randomness,
		CommittedAt:    at,
		CommittedBy:    cmd.OwnerID,
	}, candidates)
}

// appendDraw appends a draw's events to its stream, which must not exist
// yet (one draw per campaign); the draw key finds the stream from the draw id.
func appendDraw(ctx context.Context, tx *eventstore.Tx, meta Meta, commit domain.DrawCommitted, rest ...domain.Event) error {
	req := eventstore.AppendRequest{Stream: commit.StreamID(), Expected: eventstore.NoStream, Keys: []string{drawKey(commit.DrawID)}}
	for _, e := range append([]domain.Event{commit}, rest...) {
		data, err := toEventData(e, commit.EventID, meta)
		if err != nil {
			return err
		}
		req.Events = append(req.Events, data)
	}
	_, err := tx.Append(ctx, req)
	return err
}

// drawOutcome is the owner's answer: winners and alternates with their
// masked personal data.
func (h *core) drawOutcome(ctx context.Context, tx *eventstore.Tx, drawn domain.WinnersDrawn) (DrawOutcome, error) {
	masked, err := h.maskedWinners(ctx, tx, slices.Concat(drawn.Winners, drawn.Alternates))
	if err != nil {
		return DrawOutcome{}, err
	}
	named := func(ws []domain.Winner) []DrawnWinner {
		out := make([]DrawnWinner, len(ws))
		for i, w := range ws {
			m := masked[w.ParticipantID]
			out[i] = DrawnWinner{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber, Name: m.Name, Phone: m.Phone, Rank: w.Rank}
		}
		return out
	}
	return DrawOutcome{DrawID: drawn.DrawID, Winners: named(drawn.Winners), Alternates: named(drawn.Alternates)}, nil
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

// maskedWinners opens and masks the winners' personal data for the
// answer, by privacy's one definition (what the relay publishes too); an
// erased winner's is empty. A registration that does not open fails the
// command: the owner is told, rather than shown a winner without a name.
func (h *core) maskedWinners(ctx context.Context, tx *eventstore.Tx, winners []domain.Winner) (map[uuid.UUID]privacy.Masked, error) {
	ids := make([]uuid.UUID, len(winners))
	for i, w := range winners {
		ids[i] = w.ParticipantID
	}
	masked, unopened, err := privacy.MaskParticipants(ctx, h.keys, tx, ids)
	if err != nil {
		return nil, err
	}
	if len(unopened) > 0 {
		return nil, fmt.Errorf("participant at %d: %w", unopened[0].Position, unopened[0].Err)
	}
	return masked, nil
}

// openAll opens stored registrations with their subject keys: a schema-1
// event's clear values, a sealed one's opened, an erased one's empty.
func (h *core) openAll(stored []eventstore.RecordedEvent, keys map[uuid.UUID][]byte) (map[uuid.UUID]domain.PersonalData, error) {
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
