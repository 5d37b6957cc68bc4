package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kgo"
)

// SubscriberConfig configures NewSubscriber.
type SubscriberConfig struct {
	Brokers       []string
	ConsumerGroup string
	ClientID      string // "participation-projections" when empty
	// MaxInFlight is how many messages may be handed out and not settled
	// yet, over every partition (4,096 when zero). A message acked behind
	// one still out counts until that one is settled too: the partition's
	// acks are followed from its oldest message.
	MaxInFlight int
	// CommitInterval is how often the acked offsets are committed (1s when
	// zero, 100ms at least); they are also committed when partitions are
	// revoked and on Close.
	CommitInterval time.Duration
	// NackResendSleep is the pause before a nacked message's partition is
	// delivered again from it (1s when zero).
	NackResendSleep time.Duration
	// SessionTimeout is how long the group waits for a member that stopped
	// heartbeating (a killed instance) before its partitions go to the
	// others (10s when zero; the broker's group.min.session.timeout.ms,
	// 6s by default, is the floor). franz-go's 45s would leave a dead
	// projector's partitions unread that long.
	SessionTimeout time.Duration
	// BeforeCommit, when set, runs before each commit of acked offsets
	// (on the interval, on revoke, on Close), after the offsets to commit
	// were taken: whatever it records of the messages acked so far covers
	// every offset the commit makes durable. The projectors write their
	// status checkpoint there, so that a crash never leaves committed
	// messages that the checkpoint has not counted (they are not delivered
	// again). When it fails, that commit is skipped.
	BeforeCommit func(context.Context) error
	Logger       *slog.Logger
}

func (c *SubscriberConfig) setDefaults() {
	if c.ClientID == "" {
		c.ClientID = "participation-projections"
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 4096
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = time.Second
	}
	c.CommitInterval = max(c.CommitInterval, 100*time.Millisecond) // franz-go's floor
	if c.NackResendSleep <= 0 {
		c.NackResendSleep = time.Second
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports what is missing.
func (c SubscriberConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("subscriber: no Kafka brokers"))
	}
	if c.ConsumerGroup == "" {
		errs = append(errs, errors.New("subscriber: no consumer group"))
	}
	return errors.Join(errs...)
}

// Subscriber is a Kafka consumer-group subscriber behind Watermill's
// message.Subscriber that keeps many messages in flight per partition
// (watermill-kafka's hands out one and waits for its ack) and commits,
// per partition, the offset after the highest contiguous acked message.
// Messages of a partition come out in order. A Nack delivers its
// partition again from the nacked message, after NackResendSleep; the
// messages of that partition handed out after it will come again too, so
// a consumer that goes on after a Nack must tolerate them twice (the
// projectors stop instead, and retry the batch themselves).
type Subscriber struct {
	cfg SubscriberConfig

	mu        sync.Mutex
	closed    bool
	consumers []*consumer
}

// NewSubscriber returns a subscriber; it connects on Subscribe.
func NewSubscriber(cfg SubscriberConfig) (*Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Subscriber{cfg: cfg}, nil
}

var _ message.Subscriber = (*Subscriber)(nil)

// Subscribe joins the consumer group on topic. The channel closes when ctx
// ends or on Close.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("subscriber: closed")
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &consumer{topic: topic, cfg: s.cfg, parts: map[int32]*partition{}, marked: map[int32]kgo.EpochOffset{}, slots: make(chan struct{}, s.cfg.MaxInFlight),
		out: make(chan *message.Message), cancel: cancel, done: make(chan struct{})}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ClientID(s.cfg.ClientID),
		kgo.ConsumerGroup(s.cfg.ConsumerGroup),
		kgo.SessionTimeout(s.cfg.SessionTimeout),
		kgo.HeartbeatInterval(min(s.cfg.SessionTimeout/5, 3*time.Second)),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), // c.commitLoop commits what c.marked holds
		kgo.FetchMaxPartitionBytes(FetchMaxPartitionBytes),
		kgo.FetchMaxBytes(2*FetchMaxPartitionBytes),
		kgo.BrokerMaxReadBytes(2*FetchMaxPartitionBytes+1<<20),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.OnPartitionsRevoked(c.revoked),
		kgo.OnPartitionsLost(c.lost),
	)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	c.client = cl
	s.consumers = append(s.consumers, c)
	commits := make(chan struct{})
	go func() { defer close(commits); c.commitLoop(ctx) }()
	go func() {
		defer close(c.done)
		c.run(ctx)
		c.following.Wait() // every ack is marked before Close commits
		<-commits
	}()
	return c.out, nil
}

// Close leaves the groups (committing what was acked) and closes the
// channels.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	consumers := s.consumers
	s.mu.Unlock()
	var errs []error
	for _, c := range consumers {
		c.cancel()
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.commit(ctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
		c.client.Close()
	}
	return errors.Join(errs...)
}
