package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/embedded"
)

// database is an open, migrated database and what to do when done with it.
type database struct {
	pool     *pgxpool.Pool
	url      string
	embedded *embedded.Postgres
}

// openDatabase connects to DATABASE_URL or, in the embedded mode, to the
// private PostgreSQL under the data directory (reusing the one a running
// `serve` started), and applies the migrations.
func openDatabase(ctx context.Context, cfg Config, logger *slog.Logger) (*database, error) {
	db := &database{url: cfg.DatabaseURL}
	if cfg.Embedded() {
		pg, err := embedded.StartPostgres(ctx, filepath.Join(cfg.DataDir, "postgres"), embedded.DefaultPostgresPort,
			func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) })
		if err != nil {
			return nil, err
		}
		db.embedded, db.url = pg, pg.URL()
	}
	poolCfg, err := pgxpool.ParseConfig(db.url)
	if err != nil {
		db.close(logger)
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	poolCfg.MaxConns = max(poolCfg.MaxConns, 32)
	if db.pool, err = pgxpool.NewWithConfig(ctx, poolCfg); err != nil {
		db.close(logger)
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := db.pool.Ping(ctx); err != nil {
		db.close(logger)
		return nil, fmt.Errorf("connect to %s: %w", redact(db.url), err)
	}
	if err := migrateAll(ctx, db.pool); err != nil {
		db.close(logger)
		return nil, err
	}
	return db, nil
}

// openConfigured validates the configuration, then opens the database as
// openDatabase does; the caller closes it with the logger it returns.
func openConfigured(ctx context.Context, cfg Config) (*database, *slog.Logger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	logger := cfg.logger()
	db, err := openDatabase(ctx, cfg, logger)
	return db, logger, err
}

func (d *database) close(logger *slog.Logger) {
	if d.pool != nil {
		d.pool.Close()
	}
	if err := d.embedded.Stop(); err != nil {
		logger.Error("stop the private PostgreSQL", "err", err)
	}
}

func migrateAll(ctx context.Context, pool *pgxpool.Pool) error {
	if err := eventstore.Migrate(ctx, pool); err != nil {
		return err
	}
	return migrateReadSide(ctx, pool)
}

// secrets returns the JWT secret and the PII key: configured ones, or in the
// embedded mode development ones generated once and kept in the data directory.
func secrets(cfg Config) (jwtSecret, piiKey []byte, err error) {
	jwtSecret, piiKey = []byte(cfg.JWTSecret), []byte(cfg.PIIKey)
	if !cfg.Embedded() {
		return jwtSecret, piiKey, nil
	}
	if len(jwtSecret) == 0 {
		if jwtSecret, err = devSecret(filepath.Join(cfg.DataDir, "jwt-secret")); err != nil {
			return nil, nil, err
		}
	}
	if len(piiKey) == 0 {
		if piiKey, err = devSecret(filepath.Join(cfg.DataDir, "pii-key")); err != nil {
			return nil, nil, err
		}
	}
	return jwtSecret, piiKey, nil
}

func devSecret(path string) ([]byte, error) {
	if raw, err := os.ReadFile(path); err == nil {
		return []byte(strings.TrimSpace(string(raw))), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, err
	}
	secret := []byte(hex.EncodeToString(buf))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(secret, '\n'), 0o600); err != nil {
		return nil, err
	}
	return secret, nil
}

// redact hides a password in a connection URL for messages.
func redact(url string) string {
	if at := strings.LastIndex(url, "@"); at > 0 {
		if scheme := strings.Index(url, "://"); scheme > 0 && scheme < at {
			userinfo := url[scheme+3 : at]
			if colon := strings.Index(userinfo, ":"); colon >= 0 {
				return url[:scheme+3] + userinfo[:colon] + ":***" + url[at:]
			}
		}
	}
	return url
}
