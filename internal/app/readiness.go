package app

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/projections"
)

// readiness answers /readyz by role (DESIGN "Operations"): every role needs
// the database reachable and migrated; an instance with the relay or the
// projectors also reports its broker, but stays ready while Kafka is away,
// since it serves what it can and catches up when the broker is back.
type readiness struct {
	pool   *pgxpool.Pool
	broker *kgo.Client // nil without a background role
}

// newBrokerCheck is a client that only asks a broker for its metadata; it
// dials nothing until the first check.
func newBrokerCheck(brokers []string) (*kgo.Client, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("kafka client for /readyz: %w", err)
	}
	return client, nil
}

// Ready reports whether the instance can serve: the database answers and
// the schema is current.
func (r readiness) Ready(ctx context.Context) error {
	if err := r.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	for _, m := range []struct {
		fsys  fs.FS
		table string
	}{
		{eventstore.Migrations(), eventstore.MigrationsTable},
		{projections.Migrations(), projections.MigrationsTable},
	} {
		pending, err := eventstore.PendingMigrations(ctx, r.pool, m.fsys, m.table)
		if err != nil {
			return fmt.Errorf("migrations %s: %w", m.table, err)
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
