package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/internal/app"
)

// bindFlags binds the configuration shared by every command: environment
// variables, with flags of the same meaning taking precedence.
func bindFlags(cmd *cobra.Command, c *app.Config) {
	// Operator commands (token, seed, migrate, ...) validate the same
	// config; only serve narrows the roles (--roles).
	c.Roles = app.AllRoles
	f := cmd.PersistentFlags()
	f.StringVar(&c.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL); empty: a private PostgreSQL under --data-dir")
	f.StringVar(&c.KafkaBrokers, "kafka-brokers", os.Getenv("KAFKA_BROKERS"), "comma-separated Kafka brokers (KAFKA_BROKERS); empty: an in-process broker on 127.0.0.1:9092")
	f.StringVar(&c.KafkaTopic, "kafka-topic", envOr("KAFKA_TOPIC", app.DefaultTopic), "topic of the domain events (KAFKA_TOPIC)")
	f.StringVar(&c.HTTPAddr, "http-addr", envOr("HTTP_ADDR", ":8080"), "HTTP listen address (HTTP_ADDR)")
	f.StringVar(&c.JWTSecret, "jwt-secret", os.Getenv("JWT_SECRET"), "HS256 secret of owner tokens (JWT_SECRET), at least 32 bytes")
	f.StringVar(&c.PIIKey, "pii-key", os.Getenv("PII_KEY"), "secret of the keyed hash behind participant ids (PII_KEY), at least 16 bytes")
	f.StringVar(&c.LogLevel, "log-level", envOr("LOG_LEVEL", "info"), "debug, info, warn or error (LOG_LEVEL)")
	f.StringVar(&c.DataDir, "data-dir", envOr("DATA_DIR", ".data"), "embedded mode's data directory (DATA_DIR)")
	f.DurationVar(&c.RetentionNonWinners, "retention-non-winners", envDuration("RETENTION_NON_WINNERS", 168*time.Hour),
		"keep non-winners' personal data this long after announceAt (RETENTION_NON_WINNERS)")
	f.DurationVar(&c.RetentionWinners, "retention-winners", envDuration("RETENTION_WINNERS", 2160*time.Hour),
		"keep winners' personal data this long after announceAt, for prize delivery (RETENTION_WINNERS)")
}

// envDuration reads a Go duration; an unparsable value becomes -1, which
// Validate refuses by name.
func envDuration(key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return -1
	}
	return d
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
