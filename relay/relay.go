package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/backoff"
	"github.com/shopevents/participation/kafka"
)

// Sender sends messages and reports, per message, nil once Kafka
// acknowledged it or why not. *kafka.Publisher is the Sender of production.
type Sender interface {
	Send(ctx context.Context, topic string, msgs []*message.Message) []error
	Close() error
}

// Config configures a Relay.
type Config struct {
	// Name keys the durable checkpoint and the leadership lock.
	Name       string
	Topic      string
	Brokers    []string
	Partitions int32 // of the topic, when the relay creates it (KAFKA_PARTITIONS)
	// Connect makes the sender when the relay first leads, retried with
	// backoff until Kafka answers (default: a kafka.Publisher over Brokers, after
	// EnsureTopic).
	Connect func(ctx context.Context) (Sender, error)
	// BatchSize bounds how many events one round publishes.
	BatchSize int
	// Idle is how long to wait before looking again when the store has
	// nothing new and the relay cannot listen for appends (20ms when zero).
	Idle time.Duration
	// Fallback is how long a relay that listens for appends waits for one
	// before looking anyway, and how often it tries to listen again after
	// its listening connection was lost (1s when zero).
	Fallback time.Duration
	// Standby is how often a relay that is not the leader tries to become it.
	Standby time.Duration
	// MaxBackoff caps the wait after a failed round (Kafka down).
	MaxBackoff time.Duration
	// RetryPoll is how often the leader looks for parked events to send again.
	RetryPoll time.Duration
	// Publicize, when set, turns a batch of stored events into what may
	// leave the store (personal data opened and masked) before Transform.
	Publicize func(context.Context, []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error)
	// Transform builds the message for an event (default kafka.ToMessage).
	Transform func(eventstore.RecordedEvent) *message.Message
	Logger    *slog.Logger
	// Registerer, when set, gets the relay's metrics.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Name == "" {
		c.Name = "kafka-relay"
	}
	if c.Partitions <= 0 {
		c.Partitions = 12
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.Idle <= 0 {
		c.Idle = 20 * time.Millisecond
	}
	if c.Fallback <= 0 {
		c.Fallback = time.Second
	}
	if c.Standby <= 0 {
		c.Standby = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.RetryPoll <= 0 {
		c.RetryPoll = 500 * time.Millisecond
	}
	if c.Transform == nil {
		c.Transform = kafka.ToMessage
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports what is missing or wrong.
func (c Config) Validate() error {
	var errs []error
	if c.Topic == "" {
		errs = append(errs, errors.New("relay: topic is empty"))
	}
	if c.Connect == nil && len(c.Brokers) == 0 {
		errs = append(errs, errors.New("relay: no Kafka brokers"))
	}
	if c.Partitions > 10_000 {
		errs = append(errs, fmt.Errorf("relay: %d partitions is too many", c.Partitions))
	}
	if c.Standby > 4*time.Second {
		errs = append(errs, errors.New("relay: standby above 4s would miss the 5s take-over"))
	}
	return errors.Join(errs...)
}

// Relay tails the store from a durable checkpoint and publishes every event.
// One relay per database is active at a time: it holds a session advisory
// lock, and another instance takes over when the holder's session ends.
// The checkpoint advances only after Kafka acknowledged everything before
// it (or it was parked), so delivery is at-least-once and a crash loses nothing.
type Relay struct {
	store     *eventstore.Store
	cfg       Config
	sender    Sender // owned by Run's goroutine
	blocked   map[string]bool
	position  atomic.Int64
	leader    atomic.Bool
	connected atomic.Bool
	refusals  prometheus.Counter
}

// New returns a relay over the store.
func New(store *eventstore.Store, cfg Config) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Relay{store: store, cfg: cfg, refusals: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "participation_relay_refused_events_total",
		Help: "Events Kafka refused for good, which the relay parked (each refusal, retries included).",
	})}
	if cfg.Connect == nil {
		r.cfg.Connect = r.connectPublisher
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(r.refusals); err != nil {
			return nil, fmt.Errorf("relay metrics: %w", err)
		}
		if err := cfg.Registerer.Register(parkedGauge(store)); err != nil {
			return nil, fmt.Errorf("relay metrics: %w", err)
		}
	}
	return r, nil
}

func (r *Relay) connectPublisher(ctx context.Context) (Sender, error) {
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: r.cfg.Brokers, Logger: r.cfg.Logger})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	info, err := pub.EnsureTopic(ctx, r.cfg.Topic, r.cfg.Partitions)
	if err != nil {
		_ = pub.Close()
		return nil, err
	}
	r.cfg.Logger.Info("relay: topic ready", "topic", r.cfg.Topic, "created", info.Created,
		"partitions", info.Partitions, "max_message_bytes", info.MaxMessageBytes)
	return pub, nil
}

// Position is the last position settled (as far as this instance knows).
func (r *Relay) Position() int64 { return r.position.Load() }

// Leader reports whether this instance is the active relay.
func (r *Relay) Leader() bool { return r.leader.Load() }

// Connected reports whether the leader's last exchange with Kafka went well.
func (r *Relay) Connected() bool { return r.connected.Load() }

// firstPause is the first wait after a failure; it doubles up to MaxBackoff.
const firstPause = 100 * time.Millisecond

// Run relays until ctx ends. Errors are logged and retried with backoff;
// Run returns only ctx's error.
func (r *Relay) Run(ctx context.Context) error {
	defer func() {
		if r.sender != nil {
			_ = r.sender.Close()
			r.sender = nil
		}
	}()
	pause := backoff.New(firstPause, r.cfg.MaxBackoff)
	for ctx.Err() == nil {
		led, err := r.lead(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			wait := pause.Next()
			r.cfg.Logger.Warn("relay: round failed", "relay", r.cfg.Name, "position", r.Position(), "err", err, "retry_in", wait)
			backoff.Sleep(ctx, wait)
		case !led:
			backoff.Sleep(ctx, r.cfg.Standby)
		default:
			pause.Reset()
		}
	}
	return ctx.Err()
}

// lead takes the leadership lock and relays while it holds it. It returns
// led=false when another instance is the leader.
func (r *Relay) lead(ctx context.Context) (led bool, err error) {
	lead, ok, err := r.store.TryLead(ctx, "relay:"+r.cfg.Name)
	if err != nil || !ok {
		return false, err
	}
	defer func() {
		r.leader.Store(false)
		lead.Release(ctx)
	}()
	r.leader.Store(true)

	// Kafka unreachable: keep leading (a standby taking over would find it
	// unreachable too) and try again with backoff, checking the session.
	for pause := backoff.New(firstPause, r.cfg.MaxBackoff); r.sender == nil; {
		sender, err := r.cfg.Connect(ctx)
		if err == nil {
			r.sender = sender // only now: never keep a failed constructor's (typed nil) result
			break
		}
		r.connected.Store(false)
		if ctx.Err() != nil {
			return true, nil
		}
		wait := pause.Next()
		r.cfg.Logger.Warn("relay: Kafka unreachable", "relay", r.cfg.Name, "err", err, "retry_in", wait)
		backoff.Sleep(ctx, wait)
		if err := lead.Check(ctx); err != nil && ctx.Err() == nil {
			return true, err
		}
	}
	from, err := r.store.Checkpoint(ctx, r.cfg.Name)
	if err != nil {
		return true, err
	}
	if r.blocked, err = blockedKeys(ctx, r.store); err != nil {
		return true, err
	}
	r.position.Store(from)
	r.cfg.Logger.Info("relay: leading", "relay", r.cfg.Name, "from", from, "blocked_campaigns", len(r.blocked))
	saved := make(chan struct{})
	saverCtx, stopSaver := context.WithCancel(ctx)
	go func() { defer close(saved); r.saveCheckpoints(saverCtx, from) }()
	defer func() { stopSaver(); <-saved }()

	pause := backoff.New(firstPause, r.cfg.MaxBackoff)
	for ctx.Err() == nil {
		err := r.pump(ctx, lead)
		var sendErr *sendError
		if !errors.As(err, &sendErr) {
			return true, err
		}
		// Kafka is away: keep the lock, send the rest again after a pause.
		r.connected.Store(false)
		wait := pause.Next()
		r.cfg.Logger.Warn("relay: publish failed", "relay", r.cfg.Name, "position", r.Position(),
			"events", sendErr.unsent, "err", sendErr.err, "retry_in", wait)
		backoff.Sleep(ctx, wait)
	}
	return true, nil
}
