package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
)

// DefaultTopic is the topic the relay publishes to.
const DefaultTopic = "participant-events"

// RouterConfig configures NewRouter.
type RouterConfig struct {
	Brokers []string
	Topic   string // DefaultTopic when empty
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	// Projections to run (Names when empty).
	Projections []string
	// Publicize opens and masks what the projectors read from the store.
	Publicize Publicize
	// FlushInterval is how often checkpoints are written (1s when zero).
	FlushInterval time.Duration
}

// Router is the Watermill router of the projections (every method of
// message.Router is there) whose Run also writes the checkpoints.
type Router struct {
	*message.Router
	projectors []*Projector
	interval   time.Duration
	logger     *slog.Logger
}

// NewRouter returns a router with one handler and one consumer group per
// projection. Run it with router.Run(ctx); it stops when ctx ends or on
// router.Close(). The read models' schema must be migrated.
func NewRouter(cfg RouterConfig) (*Router, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("projections: no Kafka brokers")
	}
	if cfg.Pool == nil {
		return nil, errors.New("projections: no database pool")
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Projections) == 0 {
		cfg.Projections = Names()
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	wmLogger := watermill.NewSlogLogger(cfg.Logger)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wmLogger)
	if err != nil {
		return nil, err
	}
	var projectors []*Projector
	for _, name := range cfg.Projections {
		p, err := NewProjector(name, cfg.Pool, cfg.Logger, cfg.Publicize)
		if err != nil {
			return nil, err
		}
		sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{
			Brokers:               cfg.Brokers,
			Unmarshaler:           kafka.DefaultMarshaler{},
			OverwriteSaramaConfig: saramaConfig(),
			ConsumerGroup:         ConsumerGroup(name),
			// a failing database is retried, but not in a tight loop
			NackResendSleep: time.Second,
		}, wmLogger)
		if err != nil {
			return nil, fmt.Errorf("projections: %s subscriber: %w", name, err)
		}
		router.AddNoPublisherHandler(name, cfg.Topic, sub, handle(p, cfg.Logger))
		projectors = append(projectors, p)
	}
	return &Router{Router: router, projectors: projectors, interval: cfg.FlushInterval, logger: cfg.Logger}, nil
}

// Run runs the router until ctx ends or Close, writing the checkpoints every
// interval and once more after the last message was handled.
func (r *Router) Run(ctx context.Context) error {
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		t := time.NewTicker(r.interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.flush()
			case <-stop:
				return
			}
		}
	}()
	err := r.Router.Run(ctx)
	close(stop)
	<-flushed
	r.flush()
	return err
}

func (r *Router) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range r.projectors {
		if err := p.Flush(ctx); err != nil {
			r.logger.Warn("projection: checkpoint not written", "projection", p.name, "error", err)
		}
	}
}

func saramaConfig() *sarama.Config {
	c := kafka.DefaultSaramaSubscriberConfig()
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Kafka 4 dropped the oldest protocol versions; kfake and Kafka 4.x both
	// accept this one (internal/testenv checks it).
	c.Version = sarama.V4_0_0_0
	c.ClientID = "participation-projections"
	return c
}

// handle applies one message. Poison (unreadable, undecodable, unknown
// type) is logged and acked; any other failure nacks, so the message comes
// again after NackResendSleep and the partition waits for the database.
func handle(p *Projector, logger *slog.Logger) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		e, err := eventstore.FromMessage(msg)
		if err != nil {
			logger.Warn("projection: unreadable message skipped", "projection", p.name,
				"message_uuid", msg.UUID, "error", err)
			return nil
		}
		outcome, err := p.ApplyOutcome(msg.Context(), e)
		attrs := []any{"projection", p.name, "event_id", e.ID, "event_type", e.Type, "position", e.Position,
			"partition_key", e.PartitionKey, "correlation_id", e.Metadata.CorrelationID}
		switch {
		case outcome == Poison:
			logger.Warn("projection: event skipped", append(attrs, "error", err)...)
			return nil
		case err != nil:
			if !errors.Is(err, context.Canceled) {
				logger.Error("projection: apply failed; will retry", append(attrs, "error", err)...)
			}
			return err
		}
		return nil
	}
}
