package beacon_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/beacon/beacontest"
)

// With the chain info pinned, a commit names its round while every relay
// is away; the round is fetched once the beacon is back.
func TestCommitRoundWhileTheBeaconIsDown(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Chained, beacontest.BothAPIs)
	b.Down()
	c, err := beacon.New(beacon.Config{URLs: b.URL(), ChainHash: b.ChainHash(), Margin: 5 * time.Second},
		beacon.WithClock(clk.Now), beacon.WithChainInfo(b.InfoJSON()))
	if err != nil {
		t.Fatal(err)
	}
	round, due, err := c.CommitRound(t.Context(), clk.Now())
	if err != nil || round != 12 {
		t.Fatalf("commit while down: round %d, err %v; want round 12", round, err)
	}
	clk.Set(due)
	if _, err := c.Fetch(t.Context(), round); !errors.Is(err, beacon.ErrUnavailable) || !beacon.Retryable(err) {
		t.Fatalf("fetch while down: err = %v, want a retryable ErrUnavailable", err)
	}
	b.Up(t)
	if _, err := c.Fetch(t.Context(), round); err != nil {
		t.Fatalf("fetch once back: %v", err)
	}
}

// The League of Entropy's mainnet chains are known: no relay is asked to
// name a round.
func TestKnownChainsNameRoundsWithoutARelay(t *testing.T) {
	tests := []struct {
		name, hash string
		genesis    int64
		period     time.Duration
		round      uint64 // the first due 5 s after genesis + 1000 periods + 1 s
	}{
		{"mainnet", mainnetHash, 1595431050, 30 * time.Second, 1002},  // due 24 s after the margin
		{"quicknet", quicknetHash, 1692803367, 3 * time.Second, 1003}, // due as the margin ends
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := beacon.New(beacon.Config{URLs: closedURL(t), ChainHash: tt.hash, Margin: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Unix(tt.genesis, 0).Add(1000*tt.period + time.Second)
			round, due, err := c.CommitRound(t.Context(), at)
			if err != nil {
				t.Fatal(err)
			}
			// Round n is due at genesis + (n-1) periods.
			if want := time.Unix(tt.genesis, 0).Add(time.Duration(tt.round-1) * tt.period); round != tt.round || !due.Equal(want) {
				t.Errorf("round %d due %s, want %d due %s", round, due, tt.round, want)
			}
		})
	}
}

func TestPinnedChainInfoMustBeTheConfiguredChain(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs)
	tests := []struct{ name, hash, info, want string }{
		{"another_chain", quicknetHash, string(b.InfoJSON()), "not DRAND_CHAIN_HASH"},
		{"not_chain_info", b.ChainHash(), `{"period":3}`, "pinned chain info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := beacon.New(beacon.Config{URLs: b.URL(), ChainHash: tt.hash}, beacon.WithChainInfo([]byte(tt.info)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}
