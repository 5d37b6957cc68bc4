package app

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/notifier"
	"github.com/shopevents/participation/projections"
)

// readiness answers /readyz by role (DESIGN "Operations"): every role needs
// the database reachable and migrated; an instance with the relay or the
// projectors also reports its broker, but stays ready while Kafka is away,
// since it serves what it can and catches up when the broker is back.
type readiness struct {
	pool   *pgxpool.Pool
	broker *kafka.BrokerCheck // nil without a background role
}

// newBrokerCheck is a client that only asks a broker for its metadata; it
// dials nothing until the first check.
func newBrokerCheck(brokers []string) (*kafka.BrokerCheck, error) {
	check, err := kafka.NewBrokerCheck(brokers)
	if err != nil {
		return nil, fmt.Errorf("/readyz: %w", err)
	}
	return check, nil
}

// Ready reports whether the instance can serve: the database answers and
// the schema is current. Its errors go to the log: they are told as the
// connect errors are, without pgx's user=… database=….
func (r readiness) Ready(ctx context.Context) error {
	if err := r.pool.Ping(ctx); err != nil {
		return &connectError{msg: "database: " + connectCause(err), err: err}
	}
	for _, m := range []struct {
		fsys  fs.FS
		table string
	}{
		{eventstore.Migrations(), eventstore.MigrationsTable},
		{projections.Migrations(), projections.MigrationsTable},
		{notifier.Migrations(), notifier.MigrationsTable},
	} {
		pending, err := eventstore.PendingMigrations(ctx, r.pool, m.fsys, m.table)
		if err != nil {
			return &connectError{msg: "migrations " + m.table + ": " + connectCause(err), err: err}
		}
		if pending {
			return fmt.Errorf("migrations %s: not all applied", m.table)
		}
	}
	return nil
}

// Checks is each dependency's state for /readyz's answer, asked after Ready
// succeeded: the database, and the broker for a relay or projector instance.
func (r readiness) Checks(ctx context.Context) map[string]string {
	checks := map[string]string{"database": "ok"}
	if r.broker != nil {
		checks["kafka"] = "ok"
		if err := r.broker.Ping(ctx); err != nil {
			checks["kafka"] = "unreachable"
		}
	}
	return checks
}

// readyCacheTTL is how long one readiness check answers /readyz. The route
// is public on the API's port and a check costs a database ping, two
// migration queries and a broker round trip: a flood of probes must not
// turn into a flood of those.
const readyCacheTTL = time.Second

// readyCheckTimeout bounds one check, whoever is waiting for it.
const readyCheckTimeout = 2 * time.Second

type readyResult struct {
	err    error
	checks map[string]string
}

// cachedReadiness answers Ready and Checks from the last check while it is
// younger than ttl; past it, one caller runs the next check and the others
// arriving meanwhile wait for that one instead of starting their own.
type cachedReadiness struct {
	check func(context.Context) readyResult
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	last    readyResult
	at      time.Time
	have    bool
	flight  chan struct{} // closed when the running check ends; nil when none runs
	waiting int           // callers waiting for the running check (tests look)
}

func newCachedReadiness(r readiness) *cachedReadiness {
	return &cachedReadiness{
		check: func(ctx context.Context) readyResult {
			if err := r.Ready(ctx); err != nil {
				return readyResult{err: err}
			}
			return readyResult{checks: r.Checks(ctx)}
		},
		ttl: readyCacheTTL,
		now: time.Now,
	}
}

// Ready is one cached check's verdict and, when ready, its per-dependency
// states (api.Readiness): both from the same check.
func (c *cachedReadiness) Ready(ctx context.Context) (map[string]string, error) {
	r, err := c.result(ctx)
	if err != nil {
		return nil, err
	}
	return r.checks, r.err
}

func (c *cachedReadiness) result(ctx context.Context) (readyResult, error) {
	c.mu.Lock()
	if c.have && c.now().Sub(c.at) < c.ttl {
		r := c.last
		c.mu.Unlock()
		return r, nil
	}
	if flight := c.flight; flight != nil {
		c.waiting++
		c.mu.Unlock()
		defer func() { c.mu.Lock(); c.waiting--; c.mu.Unlock() }()
		select {
		case <-flight:
		case <-ctx.Done():
			return readyResult{}, fmt.Errorf("readiness: %w", ctx.Err())
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.last, nil
	}
	flight, check := make(chan struct{}), c.check
	c.flight = flight
	c.mu.Unlock()

	// The check is shared: one caller giving up must not fail the others.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyCheckTimeout)
	r := check(cctx)
	cancel()
	c.mu.Lock()
	c.last, c.at, c.have, c.flight = r, c.now(), true, nil
	c.mu.Unlock()
	close(flight)
	return r, nil
}
