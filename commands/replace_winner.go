package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

// ReplaceWinner is the owner replacing the winner holding entryNumber's
// rank by the first alternate not yet used (교체).
type ReplaceWinner struct {
	EventID     uuid.UUID
	EntryNumber string
	Reason      string
	OwnerID     string
	Meta        Meta
}

// Replacement is ReplaceWinner's answer: the event (the rank's new holder
// with its own claim deadline, and the entry replaced) and the new
// holder's masked personal data.
type Replacement struct {
	Event    domain.WinnerReplaced
	Promoted DrawnWinner // name and phone masked (privacy.Mask)
}

// ReplaceWinnerHandler handles ReplaceWinner.
type ReplaceWinnerHandler struct{ *core }

// Handle decides and appends WinnerReplaced under the campaign's
// exclusive fence: claims and erasures (shared fence) in flight have
// committed first and new ones wait, so the decision sees the holder's
// claim and every alternate's erasure as the log orders them, which is what
// verify replays. The append is at the draw stream's version: of two
// concurrent replacements of one rank the second decides again, on the
// first's result (domain.ErrAlreadyReplaced).
func (h ReplaceWinnerHandler) Handle(ctx context.Context, cmd ReplaceWinner) (Replacement, error) {
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return Replacement{}, err
	}
	if err := campaign.CheckOwner(cmd.OwnerID); err != nil {
		return Replacement{}, err
	}
	entry, ok := domain.ParseEntryNumber(cmd.EntryNumber)
	if !ok {
		entry = cmd.EntryNumber // matches no holder: the domain's answer
	}
	for {
		var out domain.WinnerReplaced
		var promoted privacy.Masked
		err := h.store.Exclusive(ctx, campaignFence(cmd.EventID), func(ctx context.Context, tx *eventstore.Tx) error {
			state, err := drawStateIn(ctx, tx, cmd.EventID)
			if err != nil {
				return err
			}
			people, err := tx.ReadPartition(ctx, cmd.EventID.String(), []string{domain.TypeParticipantErased, domain.TypePrizeClaimed}, 0)
			if err != nil {
				return fmt.Errorf("replace winner: %w", err)
			}
			erased, claimed := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
			for _, rec := range people {
				e, err := domain.DecodeEvent(rec.Type, rec.Data)
				if err != nil {
					return err
				}
				switch e := e.(type) {
				case domain.ParticipantErased:
					erased[e.ParticipantID] = true
				case domain.PrizeClaimed:
					claimed[e.ParticipantID] = true
				}
			}
			req := domain.ReplaceRequest{EntryNumber: entry, Reason: cmd.Reason, At: h.clock(), By: cmd.OwnerID,
				AlternateErased: func(id uuid.UUID) bool { return erased[id] }}
			if i := slices.IndexFunc(state.Holders, func(r domain.RankHolder) bool { return r.EntryNumber == entry }); i >= 0 {
				id := state.Holders[i].ParticipantID
				req.Claimed, req.Erased = claimed[id], erased[id]
			}
			if out, err = state.Replace(campaign, req); err != nil {
				return err
			}
			data, err := toEventData(out, cmd.EventID, cmd.Meta)
			if err != nil {
				return err
			}
			if _, err = tx.Append(ctx, eventstore.AppendRequest{Stream: domain.DrawStream(cmd.EventID),
				Expected: eventstore.Exactly(state.Version), Events: []eventstore.EventData{data}}); err != nil {
				return err
			}
			masked, err := h.maskedWinners(ctx, tx, []domain.Winner{{ParticipantID: out.By.ParticipantID}})
			promoted = masked[out.By.ParticipantID]
			return err
		})
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue // another replacement came in between: decide again
		}
		if err != nil {
			return Replacement{}, fmt.Errorf("replace winner: %w", err)
		}
		return Replacement{Event: out, Promoted: DrawnWinner{ParticipantID: out.By.ParticipantID, EntryNumber: out.By.EntryNumber,
			Name: promoted.Name, Phone: promoted.Phone, Rank: out.Rank}}, nil
	}
}

// drawState folds the campaign's draw stream.
func (h *core) drawState(ctx context.Context, eventID uuid.UUID) (domain.DrawState, error) {
	stored, err := h.store.ReadStream(ctx, domain.DrawStream(eventID))
	if err != nil {
		return domain.DrawState{}, fmt.Errorf("load draw: %w", err)
	}
	return foldDraw(stored)
}

func drawStateIn(ctx context.Context, tx *eventstore.Tx, eventID uuid.UUID) (domain.DrawState, error) {
	stored, err := tx.ReadStream(ctx, domain.DrawStream(eventID))
	if err != nil {
		return domain.DrawState{}, fmt.Errorf("load draw: %w", err)
	}
	return foldDraw(stored)
}

func foldDraw(stored []eventstore.RecordedEvent) (domain.DrawState, error) {
	var s domain.DrawState
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return domain.DrawState{}, err
		}
		if s, err = s.Apply(e); err != nil {
			return domain.DrawState{}, err
		}
	}
	return s, nil
}
