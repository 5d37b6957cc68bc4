package app

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/backoff"
	"github.com/shopevents/participation/relay"
)

// Defaults of drawCompleter.
const (
	DrawCompleteEvery  = time.Second
	DrawMaxBackoff     = time.Minute
	drawCompleteFetchT = 30 * time.Second
)

// drawMetrics count what happens to drand draws on this instance: the
// request's handler and the relay's leader both report refusals.
type drawMetrics struct {
	refused   prometheus.Counter
	completed prometheus.Counter
}

func newDrawMetrics(registry prometheus.Registerer) *drawMetrics {
	m := &drawMetrics{
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "participation_draw_beacon_refused_total",
			Help: "drand answers refused by verification (bad signature, wrong chain) for a pending draw; the draw stays pending."}),
		completed: prometheus.NewCounter(prometheus.CounterOpts{Name: "participation_draw_completed_by_leader_total",
			Help: "Pending drand draws completed by this instance as the relay's leader."}),
	}
	registry.MustRegister(m.refused, m.completed)
	return m
}

// onRefused logs a refused round (no personal data: ids and the round) and counts it.
func (m *drawMetrics) onRefused(logger *slog.Logger) func(domain.DrawCommitted, error) {
	return func(c domain.DrawCommitted, err error) {
		m.refused.Inc()
		logger.Error("draw: drand round refused, the draw stays pending", "draw_id", c.DrawID, "event_id", c.EventID,
			"round", c.Randomness.Round, "err", err)
	}
}

// drawCompleter completes pending drand draws in the relay's leader: one
// instance at a time asks the beacon, and completion appends at the
// commit's version, so a take-over or a request completing the same draw
// makes one result. It keeps no state that matters across restarts: the
// pending draws are read from the store at each check.
type drawCompleter struct {
	pending   commands.PendingDrandDrawsHandler
	completer commands.CompleteDrandDrawHandler
	client    *beacon.Client
	relay     *relay.Relay
	logger    *slog.Logger
	metrics   *drawMetrics
	every     time.Duration // how often the leader looks (DrawCompleteEvery)
	maxPause  time.Duration // the longest backoff while the beacon is away or refuses

	// per draw: failures in a row and when to ask again; the loop's alone
	fails map[uuid.UUID]int
	next  map[uuid.UUID]time.Time

	checks atomic.Int64
}

func newDrawCompleter(h commands.Application, client *beacon.Client, r *relay.Relay, logger *slog.Logger, m *drawMetrics, every, maxPause time.Duration) *drawCompleter {
	if every <= 0 {
		every = DrawCompleteEvery
	}
	if maxPause <= 0 {
		maxPause = DrawMaxBackoff
	}
	return &drawCompleter{pending: h.Queries.PendingDrandDraws, completer: h.Commands.CompleteDrandDraw, client: client, relay: r, logger: logger, metrics: m, every: every,
		maxPause: max(maxPause, every), fails: map[uuid.UUID]int{}, next: map[uuid.UUID]time.Time{}}
}

// run looks for pending draws every c.every while this instance leads.
func (c *drawCompleter) run(ctx context.Context) {
	ticker := time.NewTicker(c.every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		c.checks.Add(1)
		if !c.relay.Leader() {
			clear(c.fails)
			clear(c.next)
			continue
		}
		c.once(ctx)
	}
}

// once tries every pending draw whose pause is over.
func (c *drawCompleter) once(ctx context.Context) {
	pending, err := c.pending.Handle(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.logger.Warn("draw: reading pending draws failed", "err", err)
		}
		return
	}
	now := time.Now()
	for _, p := range pending {
		id := p.Commit.DrawID
		if now.Before(c.next[id]) {
			continue
		}
		if err := c.complete(ctx, p); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.backoff(id, now, err)
			continue
		}
		delete(c.fails, id)
		delete(c.next, id)
	}
}

func (c *drawCompleter) complete(ctx context.Context, p commands.PendingDrawCommit) error {
	if p.Commit.Randomness.ChainHash != c.client.ChainHash() {
		// committed under another DRAND_CHAIN_HASH: only that chain can complete it
		return errWrongConfiguredChain
	}
	fctx, cancel := context.WithTimeout(ctx, drawCompleteFetchT)
	defer cancel()
	r, err := c.client.Fetch(fctx, p.Commit.Randomness.Round)
	if err != nil {
		return err
	}
	drawn, err := c.completer.Handle(ctx, commands.CompleteDrandDraw{Draw: p, Round: r})
	if err != nil {
		return err
	}
	c.metrics.completed.Inc()
	c.logger.Info("draw: completed with its drand round", "draw_id", drawn.DrawID, "event_id", drawn.EventID,
		"round", r.Number, "winners", len(drawn.Winners), "alternates", len(drawn.Alternates))
	return nil
}

var errWrongConfiguredChain = errors.New("draw committed to a chain other than DRAND_CHAIN_HASH")

// backoff pauses a draw after a failure: not yet due costs nothing and is
// asked again at the next check; an unreachable beacon or a refusal
// doubles the pause up to maxPause. A refusal is logged and counted.
func (c *drawCompleter) backoff(id uuid.UUID, now time.Time, err error) {
	if errors.Is(err, beacon.ErrNotYet) && !errors.Is(err, beacon.ErrUnavailable) && !errors.Is(err, beacon.ErrRefused) {
		return
	}
	c.fails[id]++
	c.next[id] = now.Add(backoff.Delay(2*c.every, c.maxPause, c.fails[id]))
	switch {
	case errors.Is(err, beacon.ErrRefused):
		c.metrics.refused.Inc()
		c.logger.Error("draw: drand round refused, the draw stays pending", "draw_id", id, "err", err, "failures", c.fails[id])
	case c.fails[id] == 1 || c.fails[id]%10 == 0: // not every retry while the beacon is away
		c.logger.Warn("draw: drand round not fetched, retrying", "draw_id", id, "err", err, "failures", c.fails[id])
	}
}
