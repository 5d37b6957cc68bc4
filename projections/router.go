package projections

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/internal/backoff"
	"github.com/shopevents/participation/internal/pgerr"
	"github.com/shopevents/participation/kafka"
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
	// FlushInterval is how often the acked offsets are committed to Kafka,
	// each commit preceded by the projection's checkpoint (1s when zero).
	FlushInterval time.Duration
	// MaxBatch is the most messages applied in one transaction (1,000 when zero).
	MaxBatch int
	// Workers is how many transactions each projection keeps going at once
	// (2 when zero): partition keys are spread over them, so a key's events
	// stay in order, and one worker's commit overlaps another's batch.
	Workers int
	// Linger is how long a batch may wait for more messages while they keep
	// coming (10 ms when zero, none when negative): only when the projector
	// is behind, so batches grow under load and idle latency stays as it is.
	Linger time.Duration
	// OnApplied, when set, is called after each batch is committed and
	// acked, with the number of its messages (for tests and metrics).
	OnApplied func(projection string, messages int)
}

// Router runs one projector and one consumer group per projection: it
// takes what its Subscriber has in flight, up to MaxBatch messages, applies
// them in one transaction and acks them once it has committed.
type Router struct {
	cfg        RouterConfig
	projectors []*Projector
	subs       []message.Subscriber
	// decoded reads each message once for all the projectors.
	decoded *decodeCache

	mu      sync.Mutex
	closed  bool
	stop    context.CancelFunc
	stopped chan struct{}
}

// NewRouter returns a router with one consumer group per projection. Run
// it with router.Run(ctx); it stops when ctx ends or on router.Close(). The
// read models' schema must be migrated.
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
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Linger == 0 {
		cfg.Linger = 10 * time.Millisecond
	}
	// Room for every message in flight in every group twice over: read
	// models about as far along share every decode.
	inFlight := 2 * cfg.Workers * cfg.MaxBatch
	r := &Router{cfg: cfg, stopped: make(chan struct{}),
		decoded: newDecodeCache(len(cfg.Projections), 2*inFlight)}
	for _, name := range cfg.Projections {
		p, err := NewProjector(name, cfg.Pool, cfg.Logger)
		if err != nil {
			return nil, err
		}
		sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: cfg.Brokers, ConsumerGroup: ConsumerGroup(name),
			MaxInFlight: inFlight, Logger: cfg.Logger,
			// The checkpoint counts the messages a read model ignores; written
			// before the offsets that skip them are, so that a crash cannot
			// leave it behind for good (status would show a lag that stays).
			CommitInterval: cfg.FlushInterval, BeforeCommit: p.Flush})
		if err != nil {
			return nil, fmt.Errorf("projections: %s subscriber: %w", name, err)
		}
		r.projectors = append(r.projectors, p)
		r.subs = append(r.subs, sub)
	}
	return r, nil
}

// Run consumes until ctx ends or Close; the subscribers write the
// checkpoints before each commit, and Run once more at the end.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errors.New("projections: router closed")
	}
	ctx, r.stop = context.WithCancel(ctx)
	r.mu.Unlock()
	defer close(r.stopped)
	g, gctx := errgroup.WithContext(ctx)
	for i, p := range r.projectors {
		msgs, err := r.subs[i].Subscribe(gctx, r.cfg.Topic)
		if err != nil {
			r.stop()
			_ = g.Wait()
			return fmt.Errorf("projections: %s: %w", p.name, err)
		}
		g.Go(func() error { return r.dispatch(gctx, p, msgs) })
	}
	err := g.Wait()
	for _, s := range r.subs {
		_ = s.Close()
	}
	r.flush()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// Close stops Run and waits for it.
func (r *Router) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	stop := r.stop
	r.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	<-r.stopped
	return nil
}

// IsClosed reports whether Close was called.
func (r *Router) IsClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func (r *Router) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range r.projectors {
		if err := p.Flush(ctx); err != nil {
			r.cfg.Logger.Warn("projection: checkpoint not written", "projection", p.name, "error", err)
		}
	}
}

// dispatch spreads the messages over the projection's workers by
// partition key. The subscriber commits only the contiguous acks, so the
// workers may ack in any order.
func (r *Router) dispatch(ctx context.Context, p *Projector, msgs <-chan *message.Message) error {
	g, gctx := errgroup.WithContext(ctx)
	workers := make([]chan *message.Message, r.cfg.Workers)
	for i := range workers {
		workers[i] = make(chan *message.Message, r.cfg.MaxBatch)
		g.Go(func() error { return r.consume(gctx, p, workers[i]) })
	}
	g.Go(func() error {
		defer func() {
			for _, w := range workers {
				close(w)
			}
		}()
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					return nil
				}
				h := fnv.New32a()
				h.Write([]byte(m.Metadata.Get(kafka.MetaPartitionKey)))
				select {
				case workers[h.Sum32()%uint32(len(workers))] <- m:
				case <-gctx.Done():
					return nil
				}
			case <-gctx.Done():
				return nil
			}
		}
	})
	return g.Wait()
}

// consume applies batches until ctx ends: what is in flight, up to
// MaxBatch, and under load what keeps coming for up to Linger (collect),
// in one transaction; a failed transaction is retried with backoff (the
// partition waits for the database, nothing is skipped); the batch is
// acked once committed.
func (r *Router) consume(ctx context.Context, p *Projector, msgs <-chan *message.Message) error {
	batch := make([]*message.Message, 0, r.cfg.MaxBatch)
	for open := true; open; {
		batch, open = collect(ctx, msgs, batch[:0], r.cfg.MaxBatch, r.cfg.Linger)
		if len(batch) == 0 || ctx.Err() != nil {
			for _, m := range batch {
				m.Nack()
			}
			return nil
		}
		if err := r.apply(ctx, p, batch); err != nil {
			for _, m := range batch {
				m.Nack()
			}
			return nil // ctx ended
		}
		for _, m := range batch {
			m.Ack()
		}
		if r.cfg.OnApplied != nil {
			r.cfg.OnApplied(p.name, len(batch))
		}
	}
	return nil // msgs closed
}

func (r *Router) apply(ctx context.Context, p *Projector, batch []*message.Message) error {
	events := make([]decoded, 0, len(batch))
	for _, m := range batch {
		d, err := r.decoded.get(m)
		if err != nil {
			r.cfg.Logger.Warn("projection: unreadable message skipped", "projection", p.name,
				"message_uuid", m.UUID, "error", err)
			continue
		}
		events = append(events, d)
	}
	return r.applyDecoded(ctx, p, events)
}

func (r *Router) applyDecoded(ctx context.Context, p *Projector, events []decoded) error {
	if len(events) == 0 {
		return nil
	}
	for pause := backoff.New(100*time.Millisecond, 5*time.Second); ; {
		res, err := p.applyDecoded(ctx, events)
		if err == nil {
			for _, s := range res.Skipped {
				r.cfg.Logger.Warn("projection: event skipped", "projection", p.name, "position", s.Position,
					"partition_key", s.Key, "event_type", s.Type, "error", s.Err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		first := events[0].rec
		if pgerr.Permanent(err) {
			// Data the database refuses for good: find the event(s) by
			// applying one at a time, and skip those, so the partition
			// goes on.
			if len(events) == 1 {
				r.cfg.Logger.Warn("projection: event skipped", "projection", p.name, "position", first.Position,
					"partition_key", first.PartitionKey, "event_type", first.Type, "error", err)
				p.consumed(first.Position) // skipped for good: consumed all the same
				return nil
			}
			for _, d := range events {
				if err := r.applyDecoded(ctx, p, []decoded{d}); err != nil {
					return err
				}
			}
			return nil
		}
		r.cfg.Logger.Error("projection: apply failed; will retry", "projection", p.name, "messages", len(events),
			"first_position", first.Position, "error", err)
		if !backoff.Sleep(ctx, pause.Next()) {
			return ctx.Err()
		}
	}
}
