package commands

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// ErrRandomnessUnavailable is a drand draw that could not name its round:
// the chain's info is neither pinned nor reachable. Nothing was committed;
// the owner may try again.
var ErrRandomnessUnavailable = errors.New("drand beacon unavailable: the draw was not committed")

// PendingDraw is a drand draw committed to a round not yet in.
type PendingDraw struct {
	Round      uint64
	ExpectedAt time.Time
}

// PendingDrawCommit is a stored commit without its result.
type PendingDrawCommit struct {
	Commit  domain.DrawCommitted
	Version int64 // the draw stream's version at the commit
	Meta    Meta  // the commit's, so the result shares its correlation id
}

// drawWithDrand commits the draw to the first round due DRAND_MARGIN after
// the commit, under the campaign's fence (registration closes there), then
// waits up to DRAW_WAIT for the round. A round not in (or refused) leaves
// the draw pending for the relay's leader: it never falls back to local
// randomness.
func (h *Handlers) drawWithDrand(ctx context.Context, campaign domain.Campaign, cmd DrawWinners) (DrawOutcome, error) {
	// The chain info first, outside the fence: registrations never wait on
	// a relay. Inside, naming the round is arithmetic on it.
	if _, err := h.beacon.Info(ctx); err != nil {
		return DrawOutcome{}, fmt.Errorf("draw: %w: %w", ErrRandomnessUnavailable, err)
	}
	var pending PendingDrawCommit
	var due time.Time
	err := h.store.Exclusive(ctx, campaignFence(cmd.EventID), func(ctx context.Context, tx *eventstore.Tx) error {
		at := h.clock()
		round, expected, err := h.beacon.CommitRound(ctx, at)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrRandomnessUnavailable, err)
		}
		commit, _, err := h.commitDraw(ctx, tx, campaign, cmd, at, domain.DrawRandomness{
			Source: domain.RandomnessDrand, ChainHash: h.beacon.ChainHash(), Round: round})
		if err != nil {
			return err
		}
		if err := appendDraw(ctx, tx, cmd.Meta, commit); err != nil {
			return err
		}
		pending, due = PendingDrawCommit{Commit: commit, Version: 1, Meta: cmd.Meta}, expected
		return nil
	})
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		return DrawOutcome{}, domain.ErrAlreadyDrawn
	case err != nil:
		return DrawOutcome{}, fmt.Errorf("draw: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, h.beacon.DrawWait())
	r, err := h.beacon.Wait(waitCtx, pending.Commit.Randomness.Round)
	cancel()
	if err != nil {
		if errors.Is(err, beacon.ErrRefused) {
			h.onRefused(pending.Commit, err)
		}
		// The commit stands: the relay's leader completes it.
		return DrawOutcome{DrawID: pending.Commit.DrawID,
			Pending: &PendingDraw{Round: pending.Commit.Randomness.Round, ExpectedAt: due}}, nil
	}
	drawn, err := h.CompleteDrandDraw(ctx, pending, r)
	if err != nil {
		return DrawOutcome{}, fmt.Errorf("draw: %w", err)
	}
	tx, err := h.store.Begin(ctx)
	if err != nil {
		return DrawOutcome{}, fmt.Errorf("draw: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return h.drawOutcome(ctx, tx, drawn)
}

// PendingDrandDraws are the drand draws committed without a result.
func (h *Handlers) PendingDrandDraws(ctx context.Context) ([]PendingDrawCommit, error) {
	stored, err := h.store.PendingDrawCommits(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PendingDrawCommit, 0, len(stored))
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return nil, fmt.Errorf("draw commit at %d: %w", rec.Position, err)
		}
		commit, ok := e.(domain.DrawCommitted)
		if !ok || commit.Randomness.Source != domain.RandomnessDrand {
			continue // a local commit always has its result in its transaction
		}
		out = append(out, PendingDrawCommit{Commit: commit, Version: rec.StreamVersion,
			Meta: Meta{CorrelationID: rec.Metadata.CorrelationID, Actor: rec.Metadata.Actor}})
	}
	return out, nil
}

// CompleteDrandDraw completes a pending drand draw with its verified round:
// the candidates replayed from the log up to the cut-off (as verify does;
// an erasure after the commit does not change the committed leaves), the
// seed from the round, the root and the draw id. The result is appended at
// the commit's version, so of two completers one appends and the other
// gets the stored result: idempotent, one WinnersDrawn.
func (h *Handlers) CompleteDrandDraw(ctx context.Context, p PendingDrawCommit, r beacon.Round) (domain.WinnersDrawn, error) {
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

// onRefused reports a refused round: the draw stays pending, never local.
func (h *Handlers) onRefused(commit domain.DrawCommitted, err error) {
	if h.refused != nil {
		h.refused(commit, err)
	}
}
