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
}

func migrateReadSide(ctx context.Context, pool *pgxpool.Pool) error {
	return projections.Migrate(ctx, pool)
}

func newReadSide(pool *pgxpool.Pool, brokers []string, topic string, registry *prometheus.Registry, logger *slog.Logger) (*readSide, error) {
	router, err := projections.NewRouter(projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: pool, Logger: logger})
	if err != nil {
		return nil, err
	}
	registry.MustRegister(projections.NewLagCollector(pool, logger))
	return &readSide{router: router, queries: projections.NewQueries(pool, logger)}, nil
}

func (r *readSide) api() api.Queries { return r.queries }

// run consumes until ctx ends.
func (r *readSide) run(ctx context.Context) error { return r.router.Run(ctx) }

func (r *readSide) close() { r.queries.Close() }
