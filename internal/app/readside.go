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

func newProjectors(pool *pgxpool.Pool, brokers []string, topic string, logger *slog.Logger) (*projectors, error) {
	ownPool, err := projectorPool(pool)
	if err != nil {
		return nil, err
	}
	router, err := projections.NewRouter(projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: ownPool, Logger: logger})
	if err != nil {
		ownPool.Close()
		return nil, err
	}
	return &projectors{router: router, pool: ownPool}, nil
}

// projectorPool is the projectors' own pool, so a burst of projector
// transactions never starves the API's. Its commits are durable (the
// server's synchronous_commit): a projector acknowledges Kafka only after
// its transaction committed, and an asynchronous commit lost in a
// PostgreSQL crash would leave an offset acknowledged for rows that are
// gone (the PostgreSQL restart test saw exactly that).
func projectorPool(pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config().Copy()
	cfg.MaxConns = 16
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

// run consumes until ctx ends.
func (p *projectors) run(ctx context.Context) error { return p.router.Run(ctx) }

func (p *projectors) close() { p.pool.Close() }

// registerReadSideMetrics adds the projections' lag to registry.
func registerReadSideMetrics(registry *prometheus.Registry, pool *pgxpool.Pool, logger *slog.Logger) {
	registry.MustRegister(cached(projections.NewLagCollector(pool, logger), lagCacheTTL))
}
