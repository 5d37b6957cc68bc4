package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/embedded"
	"github.com/shopevents/participation/internal/pgerr"
	"github.com/shopevents/participation/notifier"
	"github.com/shopevents/participation/privacy"
	"github.com/shopevents/participation/projections"
)

// Database is an open, migrated database and what to do when done with it.
type Database struct {
	Pool     *pgxpool.Pool
	URL      string
	embedded *embedded.Postgres
	logger   *slog.Logger
}

// RelocatedDir is where the private cluster lives when, as root, it could not
// live under the data directory; "" otherwise.
func (db *Database) RelocatedDir() string {
	if db.embedded == nil || !db.embedded.Relocated {
		return ""
	}
	return db.embedded.DataDir
}

// OpenDatabase connects to DATABASE_URL or, in the embedded mode, to the
// private PostgreSQL under the data directory (reusing the one a running
// `serve` started), and applies the migrations.
func OpenDatabase(ctx context.Context, cfg Config, logger *slog.Logger) (*Database, error) {
	db := &Database{URL: cfg.DatabaseURL, logger: logger}
	if cfg.Embedded() {
		pg, err := embedded.StartPostgres(ctx, filepath.Join(cfg.DataDir, "postgres"), embedded.DefaultPostgresPort,
			func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) })
		if err != nil {
			return nil, err
		}
		db.embedded, db.URL = pg, pg.URL()
	}
	poolCfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		db.Close()
		// pgx's message quotes the string it could not parse: not ours to show.
		return nil, errors.New("DATABASE_URL is not a valid PostgreSQL connection string (a URL postgres://HOST/DB or key=value pairs)")
	}
	poolCfg.MaxConns = max(poolCfg.MaxConns, 32)
	if db.Pool, err = pgxpool.NewWithConfig(ctx, poolCfg); err != nil {
		db.Close()
		return nil, newConnectError(db.URL, err)
	}
	if err := db.Pool.Ping(ctx); err != nil {
		db.Close()
		return nil, newConnectError(db.URL, err)
	}
	if err := Migrate(ctx, db.Pool); err != nil {
		db.Close()
		return nil, err
	}
	if err := sealLegacy(ctx, cfg, db.Pool, logger); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Open validates the configuration, then opens the database as
// OpenDatabase does, with the configuration's logger: what the operator
// commands (migrate, projections, draw verify) start with.
func Open(ctx context.Context, cfg Config) (*Database, *slog.Logger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	logger := cfg.Logger()
	db, err := OpenDatabase(ctx, cfg, logger)
	return db, logger, err
}

// Close closes the pool and stops the private PostgreSQL if one was started.
func (d *Database) Close() {
	if d.Pool != nil {
		d.Pool.Close()
	}
	if err := d.embedded.Stop(); err != nil {
		d.logger.Error("stop the private PostgreSQL", "err", err)
	}
}

// Migrate applies the event store's and the read models' schemas.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	if err := eventstore.Migrate(ctx, pool); err != nil {
		return err
	}
	if err := projections.Migrate(ctx, pool); err != nil {
		return err
	}
	return notifier.Migrate(ctx, pool)
}

// sealLegacy seals the registrations stored before encryption existed,
// once: the only in-place change the store allows.
func sealLegacy(ctx context.Context, cfg Config, pool *pgxpool.Pool, logger *slog.Logger) error {
	_, piiKey, err := Secrets(cfg)
	if err != nil {
		return err
	}
	if len(piiKey) == 0 && cfg.Roles.projectorsOnly() {
		return nil // it has no key to seal with; an instance with another role seals them
	}
	keys, err := privacy.NewKeys(piiKey)
	if err != nil {
		return err
	}
	if _, err := privacy.SealLegacy(ctx, eventstore.New(pool), keys, rand.Reader, logger); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Secrets returns the JWT secret and the PII key: configured ones, or in the
// embedded mode development ones generated once and kept in the data directory.
func Secrets(cfg Config) (jwtSecret, piiKey []byte, err error) {
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

// Redact shows a connection string as host and database only, for the
// banner, logs and errors: never the user, the password or the options,
// whether it is a URL or key/value pairs (password=...).
func Redact(connString string) string {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return "(an unreadable connection string)"
	}
	host := cfg.Host
	if !strings.HasPrefix(host, "/") { // a Unix socket directory has no port to show
		host = net.JoinHostPort(host, strconv.Itoa(int(cfg.Port)))
	}
	return host + "/" + cfg.Database
}

// connectError is a failed connection told with the host and database only:
// pgx's message names the user, and the server's may name the user or the
// database. The cause stays in the chain for errors.Is and errors.As.
type connectError struct {
	msg string
	err error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.err }

func newConnectError(connString string, err error) error {
	return &connectError{msg: "connect to " + Redact(connString) + ": " + connectCause(err), err: err}
}

// connectCause says why a connection failed in words that name no user,
// password or option.
func connectCause(err error) string {
	var connErr *pgconn.ConnectError
	switch {
	case pgerr.Code(err) != "":
		return "the server refused: " + pgerr.Refusal(pgerr.Code(err)) + " (SQLSTATE " + pgerr.Code(err) + ")"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &connErr) && errors.Unwrap(connErr) != nil:
		// pgx's details without its prefix: the address tried and the
		// network's or TLS's reason.
		return errors.Unwrap(connErr).Error()
	}
	return err.Error()
}
