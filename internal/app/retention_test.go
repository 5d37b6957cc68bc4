package app

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopevents/participation/internal/testenv"
)

// movableClock is a clock a test sets; safe for concurrent use.
type movableClock struct{ at atomic.Int64 }

func (c *movableClock) set(t time.Time) { c.at.Store(t.UnixNano()) }
func (c *movableClock) now() time.Time  { return time.Unix(0, c.at.Load()) }

// The relay leader's loop, not a direct call, erases non-winners a week and
// winners 90 days after announceAt as the clock passes them; later ticks
// change nothing; the standby instance's loop ticks and runs nothing.
func TestRetentionLoopRunsInTheRelayLeaderOnly(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	setup := appSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t),
		Retention: retention{NonWinners: 168 * time.Hour, Winners: 2160 * time.Hour, Every: 20 * time.Millisecond, Clock: clock.now}}
	instances := []*testApp{newTestAppWith(t, setup), newTestAppWith(t, setup)}
	a := instances[0]
	w := openNow()
	eventID := a.openCampaign(ownerA, w)
	for i := range 4 {
		a.registerCustomer(eventID, aCustomer(40+i), "")
	}
	a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1})

	instances[0].run()
	instances[1].run()
	leader := -1
	waitUntil(t, "one relay leading", func() error {
		for i, in := range instances {
			if in.svc.relay.Leader() {
				leader = i
				return nil
			}
		}
		return errors.New("no relay leads")
	})
	lead, standby := instances[leader].svc.retention, instances[1-leader].svc.retention
	// afterRuns waits until the leader has run retention n more times.
	afterRuns := func(n int64) {
		t.Helper()
		from := lead.runs.Load()
		waitUntil(t, fmt.Sprintf("%d more retention runs", n), func() error {
			if got := lead.runs.Load() - from; got < n {
				return fmt.Errorf("%d runs", got)
			}
			return nil
		})
	}
	erasures := func() int64 {
		return a.count(`SELECT count(*) FROM events WHERE type = 'ParticipantErased' AND data->>'reason' = 'RETENTION'`)
	}
	keys := func() int64 { return a.count(`SELECT count(*) FROM pii_keys`) }

	steps := []struct {
		name            string
		at              time.Time
		erasures, keys  int64 // once the leader's loop has erased what is due
		erasedByTheLoop int64
	}{
		{"a_day_before_the_week_is_up_nothing", w.announceAt.Add(167 * time.Hour), 0, 4, 0},
		{"a_week_after_announce_the_non_winners", w.announceAt.Add(168 * time.Hour), 3, 1, 3},
		{"ninety_days_after_the_winner", w.announceAt.Add(2160 * time.Hour), 4, 0, 4},
	}
	for _, s := range steps {
		clock.set(s.at)
		afterRuns(1) // a run that started before the clock moved may have read the old time
		waitUntil(t, s.name, func() error {
			if got := erasures(); got != s.erasures {
				return fmt.Errorf("%d retention erasures, want %d", got, s.erasures)
			}
			return nil
		})
		afterRuns(2) // idempotent: more ticks at the same time change nothing
		if got := erasures(); got != s.erasures {
			t.Errorf("%s: after more ticks %d retention erasures, want %d", s.name, got, s.erasures)
		}
		if got := keys(); got != s.keys {
			t.Errorf("%s: %d data keys left, want %d", s.name, got, s.keys)
		}
		if got := lead.erased.Load(); got != s.erasedByTheLoop {
			t.Errorf("%s: the leader's loop erased %d, want %d", s.name, got, s.erasedByTheLoop)
		}
	}
	if standby.ticks.Load() < 2 || standby.runs.Load() != 0 || standby.erased.Load() != 0 {
		t.Errorf("standby: %d ticks, %d runs, %d erased; want ticks and no run", standby.ticks.Load(), standby.runs.Load(), standby.erased.Load())
	}
	if instances[1-leader].svc.relay.Leader() {
		t.Error("the standby leads too")
	}
}

// A new leader runs retention at once, then only every interval: an
// instance restarted more often than hourly still runs it.
func TestRetentionRunsAtOnceOnLeadingThenEveryInterval(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	a := newTestAppWith(t, appSetup{Retention: retention{NonWinners: 168 * time.Hour, Winners: 2160 * time.Hour,
		Every: time.Hour, Check: 10 * time.Millisecond, Clock: clock.now}})
	w := openNow()
	eventID := a.openCampaign(ownerA, w)
	for i := range 3 {
		a.registerCustomer(eventID, aCustomer(60+i), "")
	}
	a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1})
	clock.set(w.announceAt.Add(168 * time.Hour))
	a.run()
	worker := a.svc.retention
	waitUntil(t, "the first run, right after leading", func() error {
		if n := worker.erased.Load(); n != 2 {
			return fmt.Errorf("%d erased by %d runs", n, worker.runs.Load())
		}
		return nil
	})
	clock.set(w.announceAt.Add(2160 * time.Hour)) // the winner is due now, but the hour is not up
	from := worker.ticks.Load()
	waitUntil(t, "more checks", func() error {
		if n := worker.ticks.Load() - from; n < 5 {
			return fmt.Errorf("%d checks", n)
		}
		return nil
	})
	if runs, erased := worker.runs.Load(), worker.erased.Load(); runs != 1 || erased != 2 {
		t.Errorf("within the hour: %d runs, %d erased; want 1, 2", runs, erased)
	}
}
