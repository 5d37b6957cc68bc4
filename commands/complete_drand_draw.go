package commands

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// CompleteDrandDraw completes a pending drand draw with its verified round.
type CompleteDrandDraw struct {
	Draw  PendingDrawCommit
	Round beacon.Round
}

// CompleteDrandDrawHandler handles CompleteDrandDraw.
type CompleteDrandDrawHandler struct{ *core }

// Handle completes a pending drand draw with its verified round:
// the candidates replayed from the log up to the cut-off (as verify does;
// an erasure after the commit does not change the committed leaves), the
// seed from the round, the root and the draw id. The result is appended at
// the commit's version, so of two completers one appends and the other
// gets the stored result: idempotent, one WinnersDrawn.
func (h CompleteDrandDrawHandler) Handle(ctx context.Context, cmd CompleteDrandDraw) (domain.WinnersDrawn, error) {
	p, r := cmd.Draw, cmd.Round
	commit := p.Commit
	if commit.Randomness.Source != domain.RandomnessDrand || r.Number != commit.Randomness.Round {
		return domain.WinnersDrawn{}, fmt.Errorf("complete draw %s: round %d is not the committed %s round %d",
			commit.DrawID, r.Number, commit.Randomness.Source, commit.Randomness.Round)
	}
	pool, err := h.candidatesAt(ctx, commit.EventID, commit.CutoffPosition)
	if err != nil {
		return domain.WinnersDrawn{}, fmt.Errorf("complete draw: %w", err)
	}
	set := candidateSetOf(pool.candidates)
	leaves, err := domain.LeavesOf(set, commit.DrawID, commit.VisitBonusWeight)
	if err != nil {
		return domain.WinnersDrawn{}, err
	}
	var root [32]byte
	if b, err := hex.DecodeString(commit.CandidatesRoot); err != nil || len(b) != len(root) {
		return domain.WinnersDrawn{}, fmt.Errorf("complete draw %s: candidates root %q", commit.DrawID, commit.CandidatesRoot)
	} else {
		copy(root[:], b)
	}
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{
		Seed: domain.BeaconSeed(r.Randomness, root, commit.DrawID),
		Beacon: &domain.DrawBeacon{Round: r.Number, Signature: hex.EncodeToString(r.Signature),
			Randomness: hex.EncodeToString(r.Randomness), PreviousSignature: hex.EncodeToString(r.PreviousSignature)},
		// the owner's draw, whoever completes it: every completer appends the same result
		DrawnAt: h.clock(), DrawnBy: commit.CommittedBy,
	})
	if err != nil {
		return domain.WinnersDrawn{}, fmt.Errorf("complete draw %s: %w", commit.DrawID, err)
	}
	data, err := toEventData(drawn, commit.EventID, p.Meta)
	if err != nil {
		return domain.WinnersDrawn{}, err
	}
	_, err = h.store.AppendWith(ctx, eventstore.AppendRequest{Stream: commit.StreamID(),
		Expected: eventstore.Exactly(p.Version), Events: []eventstore.EventData{data}})
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) { // another completer was first
		_, stored, lerr := h.loadDraw(ctx, commit.DrawID)
		if lerr != nil {
			return domain.WinnersDrawn{}, fmt.Errorf("complete draw %s: %w", commit.DrawID, lerr)
		}
		return stored, nil
	}
	if err != nil {
		return domain.WinnersDrawn{}, fmt.Errorf("complete draw %s: %w", commit.DrawID, err)
	}
	return drawn, nil
}
