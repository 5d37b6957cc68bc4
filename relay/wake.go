package relay

import (
	"context"
	"time"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/backoff"
)

// waker lets the reader sleep while the store has nothing new: it listens
// for appends (eventstore.AppendListener) and falls back to polling every
// Config.Idle while it has no listening connection (one lost is opened
// again, at most once per Config.Fallback). Used by the reader goroutine only.
type waker struct {
	r        *Relay
	listener *eventstore.AppendListener
	tried    time.Time
}

// arm prepares to wait. false: the caller reads the tail again without
// waiting, after a pause that arm took (appends were under way, or there
// is no listener to wait with).
func (w *waker) arm(ctx context.Context) bool {
	if w.listener == nil && time.Since(w.tried) >= w.r.cfg.Fallback {
		w.tried = time.Now()
		l, err := w.r.store.ListenAppends(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.r.cfg.Logger.Warn("relay: cannot listen for appends; polling", "relay", w.r.cfg.Name, "err", err)
			}
		} else {
			w.listener = l
		}
	}
	if w.listener == nil {
		backoff.Sleep(ctx, w.r.cfg.Idle)
		return false
	}
	armed, err := w.listener.Arm(ctx)
	if err != nil {
		w.lost(ctx, err)
		return false
	}
	if !armed {
		backoff.Sleep(ctx, 2*time.Millisecond) // an append commits shortly
	}
	return armed
}

// wait sleeps until an append notifies or Fallback passes.
func (w *waker) wait(ctx context.Context) {
	if err := w.listener.Wait(ctx, w.r.cfg.Fallback); err != nil {
		w.lost(ctx, err)
	}
}

// disarm: the tail had more after all.
func (w *waker) disarm(ctx context.Context) {
	if err := w.listener.Disarm(ctx); err != nil {
		w.lost(ctx, err)
	}
}

func (w *waker) lost(ctx context.Context, err error) {
	if ctx.Err() == nil {
		w.r.cfg.Logger.Warn("relay: listening for appends failed; polling", "relay", w.r.cfg.Name, "err", err)
	}
	w.close()
}

func (w *waker) close() {
	if w.listener != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.listener.Close(ctx) // closing the session frees its lock
		w.listener = nil
	}
}
