package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/shopevents/participation/eventstore"
)

// IdempotencySweepEvery is how often each API instance deletes expired
// idempotency answers. The API role sweeps because it is the role that
// writes them: wherever answers are kept, something deletes them on time,
// whoever else runs. Sweeps of several instances skip each other's rows.
const IdempotencySweepEvery = 10 * time.Minute

// idempotencySweeper deletes expired idempotency answers on a timer, not
// only when another request comes: an answer holds a participant's entry
// number and must not outlive its day.
type idempotencySweeper struct {
	keys   *eventstore.IdempotencyKeys
	every  time.Duration
	logger *slog.Logger
}

func newIdempotencySweeper(keys *eventstore.IdempotencyKeys, every time.Duration, logger *slog.Logger) *idempotencySweeper {
	return &idempotencySweeper{keys: keys, every: every, logger: logger}
}

// run sweeps at once, then every w.every, until ctx ends; a failed sweep is
// logged and tried again at the next tick.
func (w *idempotencySweeper) run(ctx context.Context) {
	ticker := time.NewTicker(w.every)
	defer ticker.Stop()
	for {
		n, err := w.keys.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			w.logger.Error("idempotency: sweep failed", "err", err, "deleted", n)
		case n > 0:
			w.logger.Info("idempotency: swept expired answers", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
