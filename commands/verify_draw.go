package commands

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/domain"
)

// ErrDrawNotFound is returned for an unknown draw id.
var ErrDrawNotFound = errors.New("draw not found")

// ErrDrawPending is a committed draw whose randomness has not come yet:
// there is nothing to recompute until it has.
var ErrDrawPending = errors.New("draw pending its randomness")

// DrawVerification is a recorded draw and what recomputing it gave.
type DrawVerification struct {
	Commit *domain.DrawCommitted // v2 draws; nil for v1
	Draw   domain.WinnersDrawn
	Result domain.DrawVerification
	// Replacements is the first replacement not following the alternates'
	// order ("" when they all do); Result.Mismatches then names "replacements".
	Replacements string
}

// VerifyDraw asks to recompute a draw; OwnerID must own its campaign.
type VerifyDraw struct {
	DrawID  uuid.UUID
	OwnerID string
}

// VerifyDrawHandler recomputes recorded draws.
type VerifyDrawHandler struct{ *core }

// Handle recomputes a recorded draw from the event store: the candidates
// up to its cut-off, its seed and options. ownerID must own the campaign.
func (h VerifyDrawHandler) Handle(ctx context.Context, q VerifyDraw) (DrawVerification, error) {
	drawID, ownerID := q.DrawID, q.OwnerID
	commit, drawn, err := h.loadDraw(ctx, drawID)
	if err != nil && !errors.Is(err, ErrDrawPending) {
		return DrawVerification{}, err
	}
	// the owner first: a stranger learns nothing of a pending draw either
	campaign, cerr := h.loadCampaign(ctx, drawn.EventID)
	if cerr != nil {
		return DrawVerification{}, cerr
	}
	if cerr := campaign.CheckOwner(ownerID); cerr != nil {
		return DrawVerification{}, cerr
	}
	if err != nil {
		return DrawVerification{}, err
	}
	return h.verify(ctx, commit, drawn)
}

// HandleAsOperator is Handle without the owner check, for the
// operator's command line.
func (h VerifyDrawHandler) HandleAsOperator(ctx context.Context, drawID uuid.UUID) (DrawVerification, error) {
	commit, drawn, err := h.loadDraw(ctx, drawID)
	if err != nil {
		return DrawVerification{}, err
	}
	return h.verify(ctx, commit, drawn)
}

// verify replays the candidate events up to the cut-off (the log, not the
// table the draw read) and recomputes: a v2 draw from its commit (root,
// order, alternates), a v1 draw as it always was.
func (h *core) verify(ctx context.Context, commit *domain.DrawCommitted, drawn domain.WinnersDrawn) (DrawVerification, error) {
	pool, err := h.candidatesAt(ctx, drawn.EventID, drawn.CutoffPosition)
	if err != nil {
		return DrawVerification{}, fmt.Errorf("verify: %w", err)
	}
	var result domain.DrawVerification
	if commit != nil {
		result, err = domain.VerifyDrawV2(*commit, drawn, candidateSetOf(pool.candidates))
		if err == nil {
			var bad []string
			if bad, err = h.verifyRandomness(ctx, *commit, drawn); len(bad) > 0 {
				result.Mismatches = append(result.Mismatches, bad...)
				result.Verified = false
			}
		}
	} else {
		result, err = domain.VerifyDraw(drawn, pool.candidates)
	}
	if err != nil {
		return DrawVerification{}, fmt.Errorf("verify: %w", err)
	}
	bad, err := h.checkReplacements(ctx, drawn)
	if err != nil {
		return DrawVerification{}, fmt.Errorf("verify: %w", err)
	}
	if bad != "" {
		result.Mismatches = append(result.Mismatches, "replacements")
		result.Verified = false
	}
	return DrawVerification{Commit: commit, Draw: drawn, Result: result, Replacements: bad}, nil
}

// checkReplacements replays the draw's replacements against the rule
// (domain.CheckReplacements): an alternate passed over must have been
// erased before the replacement, as the log orders them (the replacement
// decides under the campaign's exclusive fence, so the order is the one
// it saw). It returns the first broken one's description, or "".
func (h *core) checkReplacements(ctx context.Context, drawn domain.WinnersDrawn) (string, error) {
	stored, err := h.store.ReadStream(ctx, domain.DrawStream(drawn.EventID))
	if err != nil {
		return "", err
	}
	var repl []domain.WinnerReplaced
	var at []int64
	for _, rec := range stored {
		if rec.Type != domain.TypeWinnerReplaced {
			continue
		}
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return "", err
		}
		repl, at = append(repl, e.(domain.WinnerReplaced)), append(at, rec.Position)
	}
	if len(repl) == 0 {
		return "", nil
	}
	erasures, err := h.store.ReadPartition(ctx, drawn.EventID.String(), []string{domain.TypeParticipantErased}, 0)
	if err != nil {
		return "", err
	}
	erasedAt := map[uuid.UUID]int64{}
	for _, rec := range erasures {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return "", err
		}
		id := e.(domain.ParticipantErased).ParticipantID
		if _, ok := erasedAt[id]; !ok {
			erasedAt[id] = rec.Position
		}
	}
	return domain.CheckReplacements(drawn, repl, func(i int, id uuid.UUID) bool {
		p, ok := erasedAt[id]
		return ok && p < at[i]
	}), nil
}

// candidatesAt replays a campaign's candidate events up to a cut-off: the
// candidates as a draw committed at that cut-off saw them, whatever was
// erased since (the draw_candidates table holds only the present). A draw
// completed after its commit (public randomness) takes its leaves from here:
// domain.LeavesOf over them, then domain.CompleteDraw, which checks the root.
func (h *core) candidatesAt(ctx context.Context, eventID uuid.UUID, cutoff int64) (candidatePool, error) {
	rows, err := h.store.ReadPartitionFields(ctx, eventID.String(), candidateEventTypes, cutoff, candidateFields)
	if err != nil {
		return candidatePool{}, err
	}
	return candidatesFrom(rows)
}

func candidateSetOf(candidates []domain.Candidate) *domain.CandidateSet {
	set := domain.NewCandidateSet(len(candidates))
	for _, c := range candidates {
		set.Add(c.ParticipantID, []byte(c.EntryNumber), c.Visited)
	}
	return set
}

// loadDraw reads a draw's events: a v2 draw's commit and result, or a v1
// draw's result alone (commit nil). A commit without a result is
// ErrDrawPending, with the result's campaign filled in.
func (h *core) loadDraw(ctx context.Context, drawID uuid.UUID) (*domain.DrawCommitted, domain.WinnersDrawn, error) {
	stream, err := h.store.StreamByKey(ctx, drawKey(drawID))
	if err != nil {
		return nil, domain.WinnersDrawn{}, fmt.Errorf("find draw: %w", err)
	}
	if stream == "" {
		return nil, domain.WinnersDrawn{}, ErrDrawNotFound
	}
	stored, err := h.store.ReadStream(ctx, stream)
	if err != nil {
		return nil, domain.WinnersDrawn{}, fmt.Errorf("load draw: %w", err)
	}
	var commit *domain.DrawCommitted
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return nil, domain.WinnersDrawn{}, err
		}
		switch e := e.(type) {
		case domain.DrawCommitted:
			if e.DrawID == drawID {
				commit = &e
			}
		case domain.WinnersDrawn:
			if e.DrawID == drawID {
				return commit, e, nil
			}
		}
	}
	if commit != nil {
		return commit, domain.WinnersDrawn{DrawID: drawID, EventID: commit.EventID}, ErrDrawPending
	}
	return nil, domain.WinnersDrawn{}, ErrDrawNotFound
}

// verifyRandomness checks a drand draw's stored round (VerifyDrawV2 has
// checked that the seed is BeaconSeed of it): it must be the committed
// round, signed by the committed chain (its chain info pinned, or read once
// from a relay and checked against the hash: offline once known). A drand
// draw whose chain this instance cannot read is an error, not "verified".
func (h *core) verifyRandomness(ctx context.Context, commit domain.DrawCommitted, drawn domain.WinnersDrawn) ([]string, error) {
	if commit.Randomness.Source != domain.RandomnessDrand {
		return nil, nil
	}
	if drawn.Beacon == nil || drawn.Beacon.Round != commit.Randomness.Round {
		return []string{"beacon"}, nil
	}
	if h.beacon == nil || h.beacon.ChainHash() != commit.Randomness.ChainHash {
		return nil, fmt.Errorf("%w: verify needs DRAND_URLS and DRAND_CHAIN_HASH %s", ErrRandomnessUnavailable, commit.Randomness.ChainHash)
	}
	info, err := h.beacon.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRandomnessUnavailable, err)
	}
	b := drawn.Beacon
	sig, err1 := hex.DecodeString(b.Signature)
	prev, err2 := hex.DecodeString(b.PreviousSignature)
	if err1 != nil || err2 != nil {
		return []string{"beacon"}, nil
	}
	r, err := info.Verify(beacon.Round{Number: b.Round, Signature: sig, PreviousSignature: prev})
	if err != nil || hex.EncodeToString(r.Randomness) != b.Randomness {
		return []string{"beacon"}, nil // a forged or foreign round
	}
	return nil, nil
}
