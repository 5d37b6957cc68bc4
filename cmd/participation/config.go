package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Config is the service's configuration: environment variables, with flags
// of the same meaning taking precedence.
type Config struct {
	DatabaseURL  string
	KafkaBrokers string // comma-separated
	KafkaTopic   string
	HTTPAddr     string
	JWTSecret    string
	PIIKey       string
	LogLevel     string
	DataDir      string // embedded mode: PostgreSQL, Kafka and secrets live here
}

func (c *Config) bindFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL); empty: a private PostgreSQL under --data-dir")
	f.StringVar(&c.KafkaBrokers, "kafka-brokers", os.Getenv("KAFKA_BROKERS"), "comma-separated Kafka brokers (KAFKA_BROKERS); empty: an in-process broker on 127.0.0.1:9092")
	f.StringVar(&c.KafkaTopic, "kafka-topic", envOr("KAFKA_TOPIC", "participant-events"), "topic of the domain events (KAFKA_TOPIC)")
	f.StringVar(&c.HTTPAddr, "http-addr", envOr("HTTP_ADDR", ":8080"), "HTTP listen address (HTTP_ADDR)")
	f.StringVar(&c.JWTSecret, "jwt-secret", os.Getenv("JWT_SECRET"), "HS256 secret of owner tokens (JWT_SECRET), at least 32 bytes")
	f.StringVar(&c.PIIKey, "pii-key", os.Getenv("PII_KEY"), "secret of the keyed hash behind participant ids (PII_KEY), at least 16 bytes")
	f.StringVar(&c.LogLevel, "log-level", envOr("LOG_LEVEL", "info"), "debug, info, warn or error (LOG_LEVEL)")
	f.StringVar(&c.DataDir, "data-dir", envOr("DATA_DIR", ".data"), "embedded mode's data directory (DATA_DIR)")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Embedded reports whether the service runs its own PostgreSQL (and then
// generates its development secrets).
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// Brokers splits KafkaBrokers.
func (c Config) Brokers() []string {
	var out []string
	for b := range strings.SplitSeq(c.KafkaBrokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Validate reports every problem at once. Outside the embedded mode a
// missing secret is an error, never a default.
func (c Config) Validate() error {
	var errs []error
	if c.KafkaTopic == "" {
		errs = append(errs, errors.New("KAFKA_TOPIC is empty"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if !c.Embedded() {
		if len(c.JWTSecret) < 32 {
			errs = append(errs, errors.New("JWT_SECRET: at least 32 bytes are required when DATABASE_URL is set"))
		}
		if len(c.PIIKey) < 16 {
			errs = append(errs, errors.New("PII_KEY: at least 16 bytes are required when DATABASE_URL is set"))
		}
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func (c Config) logger() *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
