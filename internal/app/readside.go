package app

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/projections"
)

// projectors consume Kafka into the read models (the projectors role).
type projectors struct {
	router *projections.Router
	pool   *pgxpool.Pool // the projectors' own
}

func newProjectors(pool *pgxpool.Pool, brokers []string, topic string, publicize projections.Publicize, logger *slog.Logger) (*projectors, error) {
	projectorPool, err := asyncCommitPool(pool)
	if err != nil {
		return nil, err
	}
	router, err := projections.NewRouter(projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: projectorPool, Publicize: publicize, Logger: logger})
	if err != nil {
		projectorPool.Close()
		return nil, err
	}
	return &projectors{router: router, pool: projectorPool}, nil
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

// run consumes until ctx ends.
func (p *projectors) run(ctx context.Context) error { return p.router.Run(ctx) }

func (p *projectors) close() { p.pool.Close() }

// registerReadSideMetrics adds the projections' lag to registry.
func registerReadSideMetrics(registry *prometheus.Registry, pool *pgxpool.Pool, logger *slog.Logger) {
	registry.MustRegister(projections.NewLagCollector(pool, logger))
}
