package eventstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationsTable is where the event store records its applied migrations.
const MigrationsTable = "eventstore_migrations"

// Migrate applies the event store's schema. It is safe to call from several
// processes at once: a session advisory lock serializes them.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return ApplyMigrations(ctx, pool, Migrations(), MigrationsTable)
}

// Migrations are the event store's schema migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}

// ApplyMigrations applies goose SQL migrations from fsys, tracked in table.
// Other packages that own tables (the projections) use it with their own
// table so that each package's schema evolves on its own.
func ApplyMigrations(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, table string) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return applyMigrations(ctx, db, fsys, table)
}

func applyMigrations(ctx context.Context, db *sql.DB, fsys fs.FS, table string) error {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockIDFor(table)))
	if err != nil {
		return fmt.Errorf("migrate %s: %w", table, err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithTableName(table),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		// Helpers own number ranges (00004–00009, 00010–00019, ...) that land
		// in any order: a lower number applied after a higher one is expected.
		goose.WithAllowOutofOrder(true),
	)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", table, err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", table, err)
	}
	return nil
}

// PendingMigrations reports whether the event store's schema is behind.
func PendingMigrations(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, table string) (bool, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithTableName(table), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return false, err
	}
	return provider.HasPending(ctx)
}

func lockIDFor(table string) int64 {
	// FNV-1a: a stable advisory lock id per migrations table.
	h := uint64(14695981039346656037)
	for i := 0; i < len(table); i++ {
		h ^= uint64(table[i])
		h *= 1099511628211
	}
	return int64(h >> 1)
}
