// Package notifier is the notifier role: it reads the draws from the topic
// into an outbox (one row per message, keyed by its stable messageId), and
// sends the due messages through a notify.Notifier, each claimed with
// FOR UPDATE SKIP LOCKED so that several instances send it once. Outcomes
// are stored as NotificationSent / NotificationFailed in the participant's
// stream, never with a phone or a text.
package notifier

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/notify"
	"github.com/shopevents/participation/privacy"
)

// ConsumerGroup is the notifier's Kafka consumer group: never renamed
// (a new name would read the topic again from its start).
const ConsumerGroup = "participation-notifier"

// MigrationsTable tracks the notifier's schema.
const MigrationsTable = "notifier_migrations"

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the outbox's schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return eventstore.ApplyMigrations(ctx, pool, Migrations(), MigrationsTable)
}

// Migrations are the outbox's schema migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}

// Config configures New.
type Config struct {
	Brokers []string
	Topic   string
	Pool    *pgxpool.Pool
	Store   *eventstore.Store
	Keys    *privacy.Keys // opens the phone, only to send
	Sender  notify.Notifier
	// PublicBaseURL starts the claim link the messages carry.
	PublicBaseURL string
	Clock         func() time.Time // time.Now when nil
	// Every is how often the sender looks for due messages (1s when zero).
	Every time.Duration
	// RetryBase and RetryMax bound the backoff between attempts of a
	// message the provider may still take (30s doubling to 1h when zero);
	// RetryFor is how long it is tried before it fails for good (24h).
	RetryBase, RetryMax, RetryFor time.Duration
	// SessionTimeout is the consumer group's (the subscriber's default when zero).
	SessionTimeout time.Duration
	Logger         *slog.Logger
	Registerer     prometheus.Registerer // where participation_notifications_total goes; none when nil
}

// Notifier is the role, built by New and run by Run.
type Notifier struct {
	cfg     Config
	outcome *prometheus.CounterVec
}

// Outcomes counted in participation_notifications_total.
const (
	OutcomeSent    = "sent"
	OutcomeFailed  = "failed"
	OutcomeRetry   = "retry"
	OutcomeSkipped = "skipped"
)

// New checks cfg and fills its defaults.
func New(cfg Config) (*Notifier, error) {
	var errs []error
	if len(cfg.Brokers) == 0 {
		errs = append(errs, errors.New("notifier: no Kafka brokers"))
	}
	if cfg.Pool == nil || cfg.Store == nil || cfg.Keys == nil || cfg.Sender == nil {
		errs = append(errs, errors.New("notifier: pool, store, keys and sender are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Topic == "" {
		cfg.Topic = "participant-events"
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Hour
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{cfg: cfg, outcome: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "participation_notifications_total",
		Help: "Messages to phones by template and outcome (sent, failed, retry, skipped).",
	}, []string{"template", "outcome"})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(n.outcome); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Run consumes the draws and sends the due messages until ctx ends; both
// retry through broker and database outages.
func (n *Notifier) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.consume(gctx) })
	g.Go(func() error { n.sendLoop(gctx); return nil })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
