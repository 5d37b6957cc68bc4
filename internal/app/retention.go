package app

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/relay"
)

// RetentionEvery is how often the relay's leader runs retention.
const RetentionEvery = time.Hour

// retention is how long personal data is kept after announceAt, and how
// the relay's leader erases what is due.
type retention struct {
	NonWinners, Winners time.Duration
	// Every is how often the leader runs retention; zero: this instance
	// never does (the customer page still shows the durations).
	Every time.Duration
	// Check is how often the loop looks whether this instance leads
	// (Every, at most a minute, when zero): a new leader runs retention at
	// once, so instances restarted more often than Every still run it.
	Check time.Duration
	// Clock is what "due" is measured against (time.Now when nil): tests
	// move it instead of waiting days.
	Clock func() time.Time
}

func (c *retention) setDefaults() {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Check <= 0 {
		c.Check = min(c.Every, time.Minute)
	}
}

// Validate reports durations that cannot be.
func (c retention) Validate() error {
	var errs []error
	if c.NonWinners < 0 || c.Winners < 0 {
		errs = append(errs, errors.New("RETENTION_NON_WINNERS, RETENTION_WINNERS: must not be negative"))
	}
	if c.Every < 0 || c.Check < 0 {
		errs = append(errs, errors.New("retention: a negative interval"))
	}
	return errors.Join(errs...)
}

// shown reports whether there is anything to tell customers.
func (c retention) shown() bool { return c.NonWinners != 0 || c.Winners != 0 || c.Every != 0 }

// retentionWorker runs retention in the relay's leader: one instance at a
// time does it, and a run is idempotent, so a take-over repeats nothing.
type retentionWorker struct {
	retain commands.RunRetentionHandler
	cfg    retention
	relay  *relay.Relay
	logger *slog.Logger

	ticks  atomic.Int64 // checks made, leading or not
	runs   atomic.Int64 // runs done as the leader, failed ones too
	erased atomic.Int64 // participants erased by those runs
}

func newRetentionWorker(store *eventstore.Store, piiKey []byte, cfg retention, relay *relay.Relay, logger *slog.Logger) (*retentionWorker, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, err := commands.New(store, commands.Config{PIIKey: piiKey})
	if err != nil {
		return nil, err
	}
	return &retentionWorker{retain: h.Commands.RunRetention, cfg: cfg, relay: relay, logger: logger}, nil
}

// collectors export the runs, so an operator sees retention happen.
func (w *retentionWorker) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "participation_retention_runs_total",
			Help: "Retention runs by this instance as the relay's leader (hourly)."},
			func() float64 { return float64(w.runs.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "participation_retention_erased_total",
			Help: "Participants whose personal data this instance's retention runs erased."},
			func() float64 { return float64(w.erased.Load()) }),
	}
}

// run erases what is due as soon as this instance leads, then every
// cfg.Every while it leads, until ctx ends. A failed run is logged and
// tried again at the next Every.
func (w *retentionWorker) run(ctx context.Context) {
	ticker := time.NewTicker(w.cfg.Check)
	defer ticker.Stop()
	var last time.Time // the last run's start; zero: none since leading
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		w.ticks.Add(1)
		if !w.relay.Leader() {
			last = time.Time{}
			continue
		}
		// real time, not cfg.Clock: the interval is the machine's, "due" is the clock's
		if !last.IsZero() && time.Since(last) < w.cfg.Every {
			continue
		}
		last = time.Now()
		w.once(ctx)
	}
}

// once runs retention once and counts it.
func (w *retentionWorker) once(ctx context.Context) {
	report, err := w.retain.Handle(ctx, commands.RunRetention{Now: w.cfg.Clock(),
		NonWinners: w.cfg.NonWinners, Winners: w.cfg.Winners})
	w.erased.Add(int64(report.Erased))
	w.runs.Add(1)
	if err != nil && ctx.Err() == nil {
		w.logger.Error("retention: run failed", "err", err, "erased", report.Erased)
		return
	}
	if report.Erased > 0 || report.KeysDestroyed > 0 {
		w.logger.Info("retention: erased personal data", "campaigns", report.Campaigns, "erased", report.Erased,
			"campaign_keys_destroyed", report.KeysDestroyed)
	}
}
