package beacon_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/beacon/beacontest"
	"github.com/shopevents/participation/domain"
)

// The drand path of a draw, end to end against the test beacon: the commit
// names a round, the draw request waits DRAW_WAIT for it (else 202
// PENDING), and whoever completes the draw verifies the round and derives
// the seed. The draw commands do the same with the store around it.
func TestDrawPathWithTheTestBeacon(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs) // round 10 due now, period 3 s
	c, err := beacon.New(beacon.Config{Randomness: beacon.SourceDrand, URLs: b.URL(), ChainHash: b.ChainHash(),
		Margin: 5 * time.Second, Wait: 50 * time.Millisecond}, beacon.WithClock(clk.Now), beacon.WithPoll(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}

	// Commit: DrawCommitted records randomness{source: drand, chainHash, round}.
	round, due, err := c.CommitRound(t.Context(), clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if round != 12 || c.ChainHash() != b.ChainHash() {
		t.Fatalf("commit names round %d of %s, want 12 of %s", round, c.ChainHash(), b.ChainHash())
	}

	// The request waits DRAW_WAIT; the round is not out: 202 PENDING with round and due.
	ctx, cancel := context.WithTimeout(t.Context(), c.DrawWait())
	_, err = c.Wait(ctx, round)
	cancel()
	if !beacon.Retryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("within DRAW_WAIT: err = %v, want a retryable error and the deadline", err)
	}

	// Later (the relay's leader): the round is out, verified, and seeds the draw.
	clk.Set(due)
	r, err := c.Fetch(t.Context(), round)
	if err != nil {
		t.Fatal(err)
	}
	root := sha256.Sum256([]byte("candidates root"))
	drawID := uuid.New()
	seed := domain.BeaconSeed(r.Randomness, root, drawID)
	if seed != domain.BeaconSeed(b.Randomness(round), root, drawID) {
		t.Fatal("the seed differs from the one the true round gives")
	}
	t.Logf("round %d verified, seed %x", r.Number, seed)
}
