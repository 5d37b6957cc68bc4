package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/relay"
)

// retention is how long personal data is kept after announceAt, and how
// often the relay's leader erases what is due.
type retention struct {
	NonWinners, Winners time.Duration
	Every               time.Duration
}

// retentionWorker runs retention in the relay's leader: one instance at a
// time does it, and a run is idempotent, so a take-over repeats nothing.
type retentionWorker struct {
	handlers *commands.Handlers
	cfg      retention
	relay    *relay.Relay
	logger   *slog.Logger
	clock    func() time.Time
}

func newRetentionWorker(store *eventstore.Store, piiKey []byte, cfg retention, relay *relay.Relay, logger *slog.Logger) (*retentionWorker, error) {
	h, err := commands.New(store, commands.Config{PIIKey: piiKey})
	if err != nil {
		return nil, err
	}
	return &retentionWorker{handlers: h, cfg: cfg, relay: relay, logger: logger, clock: time.Now}, nil
}

// run erases what is due every cfg.Every while this instance leads, until
// ctx ends. A failed run is logged and tried again at the next tick.
func (w *retentionWorker) run(ctx context.Context) {
	ticker := time.NewTicker(w.cfg.Every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if !w.relay.Leader() {
			continue
		}
		report, err := w.handlers.RunRetention(ctx, commands.RunRetention{Now: w.clock(),
			NonWinners: w.cfg.NonWinners, Winners: w.cfg.Winners})
		if err != nil && ctx.Err() == nil {
			w.logger.Error("retention: run failed", "err", err, "erased", report.Erased)
			continue
		}
		if report.Erased > 0 {
			w.logger.Info("retention: erased personal data", "campaigns", report.Campaigns, "erased", report.Erased)
		}
	}
}
