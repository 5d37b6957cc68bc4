package beacon_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/beacon/beacontest"
)

// clock is a settable clock shared by a test beacon and its client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newBeacon starts a test beacon whose round 10 is due at clk's time.
func newBeacon(t *testing.T, clk *clock, scheme string, api beacontest.API) *beacontest.Beacon {
	t.Helper()
	return beacontest.New(t, beacontest.Options{
		Scheme: scheme, API: api, Now: clk.Now,
		Period: 3 * time.Second, Genesis: clk.Now().Add(-27 * time.Second),
	})
}

func newClient(t *testing.T, clk *clock, hash string, urls ...string) *beacon.Client {
	t.Helper()
	var list string
	for i, u := range urls {
		if i > 0 {
			list += ","
		}
		list += u
	}
	c, err := beacon.New(beacon.Config{Randomness: beacon.SourceDrand, URLs: list, ChainHash: hash},
		beacon.WithClock(clk.Now), beacon.WithPoll(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFetchVerifiesEachSchemeOverEachAPI(t *testing.T) {
	for _, scheme := range []string{beacontest.Quicknet, beacontest.Unchained, beacontest.Chained} {
		for api, name := range map[beacontest.API]string{beacontest.V1Only: "v1", beacontest.V2Only: "v2"} {
			t.Run(scheme+"_"+name, func(t *testing.T) {
				clk := newClock()
				b := newBeacon(t, clk, scheme, api)
				c := newClient(t, clk, b.ChainHash(), b.URL())
				for _, n := range []uint64{10, 3} {
					r, err := c.Fetch(t.Context(), n)
					if err != nil {
						t.Fatalf("round %d: %v", n, err)
					}
					if r.Number != n || !bytes.Equal(r.Signature, b.Signature(n)) || !bytes.Equal(r.Randomness, b.Randomness(n)) {
						t.Errorf("round %d: got round %d randomness %x, want randomness %x", n, r.Number, r.Randomness, b.Randomness(n))
					}
					if chained := scheme == beacontest.Chained; chained != (len(r.PreviousSignature) > 0) ||
						(chained && !bytes.Equal(r.PreviousSignature, b.Signature(n-1))) {
						t.Errorf("round %d: previous signature %x (chained %v)", n, r.PreviousSignature, chained)
					}
				}
			})
		}
	}
}

func TestFetchRefusesForgedAnswers(t *testing.T) {
	tests := []struct {
		name  string
		fault beacontest.Fault
		want  error
	}{
		{"bad_signature", beacontest.BadSignature, beacon.ErrBadSignature},
		{"other_chain", beacontest.OtherChain, beacon.ErrWrongChain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs)
			b.SetFault(tt.fault)
			c := newClient(t, clk, b.ChainHash(), b.URL())
			_, err := c.Fetch(t.Context(), 10)
			if !errors.Is(err, tt.want) || !errors.Is(err, beacon.ErrRefused) || beacon.Retryable(err) {
				t.Fatalf("err = %v, want a refusal wrapping %v", err, tt.want)
			}
			// Wait gives up at once on a refusal: no fallback, no retry loop.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, err := c.Wait(ctx, 10); !errors.Is(err, tt.want) || ctx.Err() != nil {
				t.Fatalf("Wait: err = %v (ctx %v), want the refusal before the deadline", err, ctx.Err())
			}
		})
	}
}

// A chain switched under a client that already holds the true chain info
// is refused by the signature check.
func TestFetchRefusesAnotherChainAfterTheInfoWasRead(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Unchained, beacontest.BothAPIs)
	c := newClient(t, clk, b.ChainHash(), b.URL())
	if _, err := c.Fetch(t.Context(), 9); err != nil {
		t.Fatal(err)
	}
	b.SetFault(beacontest.OtherChain)
	if _, err := c.Fetch(t.Context(), 10); !errors.Is(err, beacon.ErrBadSignature) {
		t.Fatalf("err = %v, want ErrBadSignature", err)
	}
}

func TestFetchUnreachableIsRetryable(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs)
	c := newClient(t, clk, b.ChainHash(), b.URL())

	b.SetFault(beacontest.Unavailable) // 503 before the chain info was read
	if _, err := c.Fetch(t.Context(), 10); !errors.Is(err, beacon.ErrUnavailable) || !beacon.Retryable(err) {
		t.Fatalf("503: err = %v, want a retryable ErrUnavailable", err)
	}
	b.SetFault(beacontest.Healthy)
	if _, err := c.Fetch(t.Context(), 9); err != nil {
		t.Fatalf("back from 503: %v", err)
	}

	b.Down() // connection refused once the chain info is held
	if _, err := c.Fetch(t.Context(), 10); !errors.Is(err, beacon.ErrUnavailable) || !beacon.Retryable(err) {
		t.Fatalf("down: err = %v, want a retryable ErrUnavailable", err)
	}
	b.Up(t)
	r, err := c.Fetch(t.Context(), 10)
	if err != nil || !bytes.Equal(r.Randomness, b.Randomness(10)) {
		t.Fatalf("back up: round %d, err %v", r.Number, err)
	}
}

func TestFetchBeforeTheRoundIsOut(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs)
	c := newClient(t, clk, b.ChainHash(), b.URL())
	if _, err := c.Info(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Not due by the clock: not yet, and no request is made for it.
	before := b.Requests()
	_, err := c.Fetch(t.Context(), 11)
	if !errors.Is(err, beacon.ErrNotYet) || !beacon.Retryable(err) {
		t.Fatalf("round 11: err = %v, want a retryable ErrNotYet", err)
	}
	if got := b.Requests(); got != before {
		t.Errorf("requests = %d after asking for a future round, want %d", got, before)
	}

	// Due by the client's clock, not yet at a relay whose network is late.
	late := newClock()
	late.Set(clk.Now().Add(-3 * time.Second))
	lagging := beacontest.New(t, beacontest.Options{Scheme: beacontest.Quicknet, Now: late.Now,
		Period: b.Period(), Genesis: b.Genesis()})
	c2 := newClient(t, clk, lagging.ChainHash(), lagging.URL())
	if _, err := c2.Fetch(t.Context(), 10); !errors.Is(err, beacon.ErrNotYet) || !beacon.Retryable(err) {
		t.Fatalf("lagging relay: err = %v, want a retryable ErrNotYet", err)
	}

	// Once due: served.
	clk.Set(clk.Now().Add(3 * time.Second))
	if _, err := c.Fetch(t.Context(), 11); err != nil {
		t.Fatalf("round 11 once due: %v", err)
	}
}

func TestFetchFailsOverAcrossURLs(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs)
	tests := []struct {
		name  string
		first func(t *testing.T) string // the URL tried first
	}{
		{"first_refuses_connections", func(t *testing.T) string { return closedURL(t) }},
		{"first_answers_503", func(t *testing.T) string {
			m := b.Mirror(t)
			m.SetFault(beacontest.Unavailable)
			return m.URL()
		}},
		{"first_forges_signatures", func(t *testing.T) string {
			m := b.Mirror(t)
			m.SetFault(beacontest.BadSignature)
			return m.URL()
		}},
		{"first_serves_another_chain", func(t *testing.T) string {
			m := b.Mirror(t)
			m.SetFault(beacontest.OtherChain)
			return m.URL()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, clk, b.ChainHash(), tt.first(t), b.URL())
			r, err := c.Fetch(t.Context(), 10)
			if err != nil {
				t.Fatalf("failover: %v", err)
			}
			if !bytes.Equal(r.Randomness, b.Randomness(10)) {
				t.Errorf("randomness %x, want the true round's %x", r.Randomness, b.Randomness(10))
			}
		})
	}
}

func TestCommitRoundIsTheFirstDueAfterTheMargin(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs) // round 10 due now, period 3 s
	c, err := beacon.New(beacon.Config{URLs: b.URL(), ChainHash: b.ChainHash(), Margin: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		at    time.Time
		round uint64
	}{
		{"margin_ends_between_rounds", clk.Now(), 12},              // now+5 s → round 12 at now+6 s
		{"margin_ends_on_a_round", clk.Now().Add(time.Second), 12}, // now+6 s is round 12's time
		{"margin_ends_just_after", clk.Now().Add(time.Second + time.Nanosecond), 13},
	} {
		t.Run(tt.name, func(t *testing.T) {
			round, due, err := c.CommitRound(t.Context(), tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if round != tt.round || !due.Equal(b.TimeOf(tt.round)) {
				t.Errorf("round %d due %s, want %d due %s", round, due, tt.round, b.TimeOf(tt.round))
			}
			if due.Before(tt.at.Add(5 * time.Second)) {
				t.Errorf("round %d is due %s, within the margin of %s", round, due, tt.at)
			}
		})
	}
}

func TestWaitRetriesUntilTheBeaconIsBack(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs)
	c := newClient(t, clk, b.ChainHash(), b.URL())
	if _, err := c.Info(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.SetFault(beacontest.Unavailable)
	go func() { // heal once the client has asked a few times
		for b.Requests() < 4 {
			time.Sleep(time.Millisecond)
		}
		b.SetFault(beacontest.Healthy)
	}()
	r, err := c.Wait(t.Context(), 10)
	if err != nil || !bytes.Equal(r.Randomness, b.Randomness(10)) {
		t.Fatalf("Wait: round %d err %v", r.Number, err)
	}
}

func TestWaitEndsWithItsContextWhileNotYet(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.BothAPIs)
	c := newClient(t, clk, b.ChainHash(), b.URL())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err := c.Wait(ctx, 11) // the clock stands still: never due
	if !errors.Is(err, beacon.ErrNotYet) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrNotYet and the deadline", err)
	}
}

// closedURL is an address that refuses connections.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// One client serves every draw of an instance: concurrent first uses read
// the chain info and learn the relays' APIs without racing (run with -race).
func TestFetchConcurrently(t *testing.T) {
	clk := newClock()
	b := newBeacon(t, clk, beacontest.Quicknet, beacontest.V1Only)
	m := b.Mirror(t)
	m.SetFault(beacontest.BadSignature)
	c := newClient(t, clk, b.ChainHash(), m.URL(), b.URL())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			n := uint64(3 + i)
			r, err := c.Fetch(t.Context(), n)
			if err != nil || !bytes.Equal(r.Randomness, b.Randomness(n)) {
				t.Errorf("round %d: %x, %v", n, r.Randomness, err)
			}
		})
	}
	wg.Wait()
}
