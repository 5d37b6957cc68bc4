package main

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
)

// readSide is the projectors and the queries over their read models.
type readSide struct{}

func migrateReadSide(ctx context.Context, pool *pgxpool.Pool) error { return nil }

func newReadSide(pool *pgxpool.Pool, brokers []string, topic string, handlers *commands.Handlers,
	registry *prometheus.Registry, logger *slog.Logger) (*readSide, error) {
	return &readSide{}, nil
}

func (r *readSide) queries() api.Queries { return nil }

func (r *readSide) run(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}
