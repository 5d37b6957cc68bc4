package commands

import (
	"context"
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
func (h *core) drawWithDrand(ctx context.Context, campaign domain.Campaign, cmd DrawWinners) (DrawOutcome, error) {
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
	drawn, err := CompleteDrandDrawHandler{h}.Handle(ctx, CompleteDrandDraw{Draw: pending, Round: r})
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

// onRefused reports a refused round: the draw stays pending, never local.
func (h *core) onRefused(commit domain.DrawCommitted, err error) {
	if h.refused != nil {
		h.refused(commit, err)
	}
}
