package main

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/projections"
)

// readSide is the projectors (consuming Kafka) and the queries over their
// read models.
type readSide struct {
	router  *projections.Router
	queries *projections.Queries
	pool    *pgxpool.Pool // the projectors' own
}

func migrateReadSide(ctx context.Context, pool *pgxpool.Pool) error {
	return projections.Migrate(ctx, pool)
}

func newReadSide(pool *pgxpool.Pool, brokers []string, topic string, registry *prometheus.Registry, logger *slog.Logger) (*readSide, error) {
	projectorPool, err := asyncCommitPool(pool)
	if err != nil {
		return nil, err
	}
	router, err := projections.NewRouter(projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: projectorPool, Logger: logger})
	if err != nil {
		projectorPool.Close()
		return nil, err
	}
	registry.MustRegister(projections.NewLagCollector(pool, logger))
	return &readSide{router: router, queries: projections.NewQueries(pool, logger), pool: projectorPool}, nil
}

// asyncCommitPool is a pool like pool whose transactions do not wait for
// their WAL flush. The projectors write only derived data: a service crash
// (kill -9) loses nothing, since PostgreSQL still flushes what it committed
// within a fraction of a second; only a crash of PostgreSQL itself in that
// window can lose the last read-model updates, which a rebuild from the
// event store restores. In exchange a projector's transaction does not wait
// for a disk flush, several times a second per partition.
func asyncCommitPool(pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config().Copy()
	cfg.MaxConns = 16
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

func (r *readSide) api() api.Queries { return r.queries }

// run consumes until ctx ends.
func (r *readSide) run(ctx context.Context) error { return r.router.Run(ctx) }

func (r *readSide) close() {
	r.queries.Close()
	r.pool.Close()
}
