package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// RelayConfig configures the relay that publishes the store (the outbox).
type RelayConfig struct {
	// Name keys the durable checkpoint and the leadership lock.
	Name  string
	Topic string
	// Publisher publishes to Kafka. When it is nil, Connect makes one when
	// the relay first leads, retried with backoff, so a relay can start while
	// Kafka is down.
	Publisher message.Publisher
	Connect   func() (message.Publisher, error)
	// BatchSize bounds how many events one round publishes.
	BatchSize int
	// Parallelism bounds how many partition keys publish at once. Events of
	// one partition key are always published one after another, in order.
	Parallelism int
	// Idle is how long to wait before looking again when the store has nothing new.
	Idle time.Duration
	// Standby is how often a relay that is not the leader tries to become it.
	Standby time.Duration
	// MaxBackoff caps the wait after a failed round (Kafka down).
	MaxBackoff time.Duration
	// Publicize, when set, turns a batch of stored events into what may
	// leave the store (personal data opened and masked) before Transform.
	Publicize func(context.Context, []RecordedEvent) ([]RecordedEvent, error)
	// Transform builds the message for an event (default ToMessage).
	Transform func(RecordedEvent) *message.Message
	Logger    *slog.Logger
}

func (c *RelayConfig) setDefaults() {
	if c.Name == "" {
		c.Name = "kafka-relay"
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.Parallelism <= 0 {
		c.Parallelism = 64
	}
	if c.Idle <= 0 {
		c.Idle = 20 * time.Millisecond
	}
	if c.Standby <= 0 {
		c.Standby = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.Transform == nil {
		c.Transform = ToMessage
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports what is missing.
func (c RelayConfig) Validate() error {
	var errs []error
	if c.Topic == "" {
		errs = append(errs, errors.New("relay: topic is empty"))
	}
	if c.Publisher == nil && c.Connect == nil {
		errs = append(errs, errors.New("relay: no publisher and no way to connect one"))
	}
	return errors.Join(errs...)
}

// Relay tails the store from a durable checkpoint and publishes every event.
// One relay per database is active at a time: it holds a session advisory
// lock, and another instance takes over when the holder's session ends.
// The checkpoint advances only after Kafka acknowledged, so delivery is
// at-least-once and a crash loses nothing.
type Relay struct {
	store     *Store
	cfg       RelayConfig
	publisher message.Publisher // owned by Run's goroutine
	position  atomic.Int64
	leader    atomic.Bool
}

// NewRelay returns a relay over the store.
func (s *Store) NewRelay(cfg RelayConfig) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Relay{store: s, cfg: cfg, publisher: cfg.Publisher}, nil
}

// Position is the last position published (as far as this instance knows).
func (r *Relay) Position() int64 { return r.position.Load() }

// Leader reports whether this instance is the active relay.
func (r *Relay) Leader() bool { return r.leader.Load() }

// Run relays until ctx ends. Errors are logged and retried with backoff;
// Run returns only ctx's error.
func (r *Relay) Run(ctx context.Context) error {
	defer func() {
		if r.cfg.Publisher == nil && r.publisher != nil { // made by Connect: ours to close
			_ = r.publisher.Close()
			r.publisher = nil
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		led, err := r.lead(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			r.cfg.Logger.Warn("relay: round failed", "relay", r.cfg.Name, "position", r.Position(), "err", err, "retry_in", backoff)
			sleep(ctx, backoff)
			backoff = min(backoff*2, r.cfg.MaxBackoff)
		case !led:
			sleep(ctx, r.cfg.Standby)
		default:
			backoff = 100 * time.Millisecond
		}
	}
	return ctx.Err()
}

// lead takes the leadership lock and relays while it holds it. It returns
// led=false when another instance is the leader.
func (r *Relay) lead(ctx context.Context) (led bool, err error) {
	conn, err := r.store.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire: %w", err)
	}
	// The lock lives as long as this session; the connection is not returned
	// to the pool holding it.
	defer conn.Release()
	lockKey := lockIDFor("relay:" + r.cfg.Name)
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey).Scan(&got); err != nil {
		return false, fmt.Errorf("leadership: %w", err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		r.leader.Store(false)
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, lockKey); uerr != nil {
			conn.Conn().Close(unlockCtx) // a broken session frees its locks when it closes
		}
	}()
	r.leader.Store(true)

	if r.publisher == nil {
		if r.publisher, err = r.cfg.Connect(); err != nil {
			return true, fmt.Errorf("connect publisher: %w", err)
		}
	}
	from, err := r.store.Checkpoint(ctx, r.cfg.Name)
	if err != nil {
		return true, err
	}
	r.position.Store(from)
	r.cfg.Logger.Info("relay: leading", "relay", r.cfg.Name, "from", from)
	tail := r.store.NewTail(from)
	lastCheck := time.Now()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if time.Since(lastCheck) > r.cfg.Standby {
			if err := conn.Ping(ctx); err != nil {
				return true, fmt.Errorf("leadership session lost: %w", err)
			}
			lastCheck = time.Now()
		}
		events, waiting, err := tail.Next(ctx, r.cfg.BatchSize)
		if err != nil {
			return true, err
		}
		if len(events) == 0 {
			if waiting {
				sleep(ctx, 2*time.Millisecond)
			} else {
				sleep(ctx, r.cfg.Idle)
			}
			continue
		}
		if err := r.publish(ctx, events); err != nil {
			// Kafka is down or refused: keep the lock, retry the same batch.
			r.cfg.Logger.Warn("relay: publish failed", "relay", r.cfg.Name, "position", r.Position(),
				"events", len(events), "err", err, "retry_in", backoff)
			tail.Reset(r.Position())
			sleep(ctx, backoff)
			backoff = min(backoff*2, r.cfg.MaxBackoff)
			continue
		}
		backoff = 100 * time.Millisecond
		last := events[len(events)-1].Position
		if err := r.store.SaveCheckpoint(ctx, r.cfg.Name, last); err != nil {
			return true, err
		}
		r.position.Store(last)
	}
	return true, nil
}

// publish sends a batch: partition keys in parallel, each key's events in order.
func (r *Relay) publish(ctx context.Context, events []RecordedEvent) error {
	if r.cfg.Publicize != nil {
		var err error
		if events, err = r.cfg.Publicize(ctx, events); err != nil {
			return err
		}
	}
	var order []string
	byKey := map[string][]*message.Message{}
	for _, e := range events {
		if _, ok := byKey[e.PartitionKey]; !ok {
			order = append(order, e.PartitionKey)
		}
		byKey[e.PartitionKey] = append(byKey[e.PartitionKey], r.cfg.Transform(e))
	}
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Parallelism)
	for _, key := range order {
		msgs := byKey[key]
		g.Go(func() error { return r.publisher.Publish(r.cfg.Topic, msgs...) })
	}
	return g.Wait()
}

// Checkpoint returns a reader's durable position (0 when it has none).
func (s *Store) Checkpoint(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := s.pool.QueryRow(ctx, `SELECT position FROM checkpoints WHERE name = $1`, name).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return pos, nil
}

// SaveCheckpoint records a reader's position; it never moves backwards.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, position int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO checkpoints (name, position) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET position = GREATEST(checkpoints.position, EXCLUDED.position), updated_at = now()`,
		name, position)
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", name, err)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
