package projections

import (
	"context"
	"embed"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable is where the read models' applied migrations are recorded.
const MigrationsTable = "projections_migrations"

// Migrations is the read models' goose migrations (for a readiness check:
// eventstore.PendingMigrations(ctx, pool, projections.Migrations(), projections.MigrationsTable)).
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	return sub
}

// Migrate applies the read models' schema; safe to call from several
// processes at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return eventstore.ApplyMigrations(ctx, pool, Migrations(), MigrationsTable)
}
