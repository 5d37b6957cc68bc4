package app

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/beacon/beacontest"
	"github.com/shopevents/participation/domain"
)

// drawSetup is a test app's draw randomness: zero is local.
type drawSetup struct {
	Config            beacon.Config
	Options           []beacon.Option
	Every, MaxBackoff time.Duration // the leader's pace; zero: the defaults
}

// fakeClock is the drand chain's time in a test: rounds are published
// when the test moves it, never by waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// drandWorld is a test beacon on a clock the test moves, and the draw
// setup that points a test app at it (its chain info pinned, so a commit
// names its round while the beacon is down).
type drandWorld struct {
	clock  *fakeClock
	beacon *beacontest.Beacon
}

func newDrandWorld(t *testing.T) *drandWorld {
	t.Helper()
	clk := &fakeClock{now: time.Now().Truncate(time.Second)}
	b := beacontest.New(t, beacontest.Options{Scheme: beacontest.Quicknet, Period: time.Second, Genesis: clk.Now().Add(-time.Hour), Now: clk.Now})
	return &drandWorld{clock: clk, beacon: b}
}

// setup is a test app's draw setup: DRAW_WAIT wait, the leader checking
// every 20 ms and pausing at most 100 ms while the beacon is away.
func (w *drandWorld) setup(wait time.Duration) drawSetup {
	return drawSetup{
		Config: beacon.Config{Randomness: beacon.SourceDrand, URLs: w.beacon.URL(), ChainHash: w.beacon.ChainHash(),
			Margin: 5 * time.Second, Wait: wait},
		Options:    []beacon.Option{beacon.WithClock(w.clock.Now), beacon.WithPoll(10 * time.Millisecond), beacon.WithChainInfo(w.beacon.InfoJSON())},
		Every:      20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond,
	}
}

// publish moves the chain's clock to round's time: it is out.
func (w *drandWorld) publish(round uint64) { w.clock.Set(w.beacon.TimeOf(round)) }

// pendingJSON is the 202 answer of a drand draw.
type pendingJSON struct {
	DrawLogID  uuid.UUID `json:"drawLogId"`
	State      string    `json:"state"`
	Round      uint64    `json:"round"`
	ExpectedAt time.Time `json:"expectedAt"`
}

// storedDrawEvents are a campaign's stored draw events.
type storedDrawEvents struct {
	Commits []domain.DrawCommitted
	Results []domain.WinnersDrawn
}

func (a *testApp) drawEvents(eventID uuid.UUID) storedDrawEvents {
	a.t.Helper()
	rows, err := a.pool.Query(a.t.Context(), `SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_version`,
		domain.DrawStream(eventID))
	if err != nil {
		a.t.Fatalf("draw events: %v", err)
	}
	defer rows.Close()
	var out storedDrawEvents
	for rows.Next() {
		var typ string
		var data []byte
		if err := rows.Scan(&typ, &data); err != nil {
			a.t.Fatal(err)
		}
		switch typ {
		case domain.TypeDrawCommitted:
			var c domain.DrawCommitted
			if err := json.Unmarshal(data, &c); err != nil {
				a.t.Fatal(err)
			}
			out.Commits = append(out.Commits, c)
		case domain.TypeWinnersDrawn:
			var d domain.WinnersDrawn
			if err := json.Unmarshal(data, &d); err != nil {
				a.t.Fatal(err)
			}
			out.Results = append(out.Results, d)
		}
	}
	if err := rows.Err(); err != nil {
		a.t.Fatal(err)
	}
	return out
}

// committed waits for the campaign's commit and returns it.
func (a *testApp) committed(eventID uuid.UUID) domain.DrawCommitted {
	a.t.Helper()
	waitUntil(a.t, "the draw's commit", func() error {
		if len(a.drawEvents(eventID).Commits) == 0 {
			return fmt.Errorf("no DrawCommitted")
		}
		return nil
	})
	return a.drawEvents(eventID).Commits[0]
}

// drawnWith waits for the campaign's one result and checks it against
// the commit and the true round: the committed round, its randomness, the
// seed derived from it.
func (a *testApp) drawnWith(eventID uuid.UUID, b *beacontest.Beacon) domain.WinnersDrawn {
	a.t.Helper()
	waitUntil(a.t, "the draw's result", func() error {
		if len(a.drawEvents(eventID).Results) == 0 {
			return fmt.Errorf("no WinnersDrawn")
		}
		return nil
	})
	ev := a.drawEvents(eventID)
	if len(ev.Commits) != 1 || len(ev.Results) != 1 {
		a.t.Fatalf("%d commits and %d results, want one of each", len(ev.Commits), len(ev.Results))
	}
	c, d := ev.Commits[0], ev.Results[0]
	if c.Randomness.Source != domain.RandomnessDrand || c.Randomness.ChainHash != b.ChainHash() {
		a.t.Fatalf("commit's randomness %+v, want drand on %s", c.Randomness, b.ChainHash())
	}
	if d.Beacon == nil || d.Beacon.Round != c.Randomness.Round {
		a.t.Fatalf("result's beacon %+v, want the committed round %d", d.Beacon, c.Randomness.Round)
	}
	if d.Beacon.Randomness != hex.EncodeToString(b.Randomness(c.Randomness.Round)) {
		a.t.Fatalf("result's randomness %s is not the true round's", d.Beacon.Randomness)
	}
	root, err := hex.DecodeString(c.CandidatesRoot)
	if err != nil {
		a.t.Fatal(err)
	}
	seed := domain.BeaconSeed(b.Randomness(c.Randomness.Round), [32]byte(root), c.DrawID)
	if d.Seed != hex.EncodeToString(seed[:]) {
		a.t.Fatalf("seed %s, want BeaconSeed of the round %x", d.Seed, seed)
	}
	return d
}

// verified asks the API to verify the draw and fails unless it verifies.
func (a *testApp) verified(owner string, drawID uuid.UUID) {
	a.t.Helper()
	ans := a.call(http.MethodGet, verifyPath(drawID), token(a.t, owner), nil)
	if ans.Status != http.StatusOK || !strings.Contains(string(ans.Body), `"verified":true`) {
		a.t.Fatalf("verify → %d %s, want verified", ans.Status, ans.Body)
	}
}

// metric reads a counter or gauge from a metrics handler's base URL.
func metric(base, name string) (float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("%s/metrics has no %s", base, name)
}

// refusedAtLeast waits until an instance has refused n drand answers.
func refusedAtLeast(t *testing.T, metricsURL string, n float64) {
	t.Helper()
	waitUntil(t, "a refused drand round", func() error {
		v, err := metric(metricsURL, "participation_draw_beacon_refused_total")
		if err == nil && v < n {
			err = fmt.Errorf("refused %v, want ≥ %v", v, n)
		}
		return err
	})
}
