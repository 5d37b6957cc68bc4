package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// uuidHeader carries the message UUID, as watermill-kafka's marshaler and
// the relay's publisher write it.
const uuidHeader = "_watermill_message_uuid"

// FetchMaxPartitionBytes bounds one partition's part of a fetch: at least
// the largest message the relay produces (relay.MaxMessageBytes, a test
// checks), so a 100,000-winner WinnersDrawn is always fetchable.
const FetchMaxPartitionBytes = 64 << 20

// SubscriberConfig configures NewSubscriber.
type SubscriberConfig struct {
	Brokers       []string
	ConsumerGroup string
	ClientID      string // "participation-projections" when empty
	// MaxInFlight is how many messages may be handed out and not acked yet,
	// over every partition (4,096 when zero).
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

// consumer is one Subscribe: one client, one group member.
type consumer struct {
	topic  string
	cfg    SubscriberConfig
	client *kgo.Client
	out    chan *message.Message
	slots  chan struct{} // one per message in flight
	cancel context.CancelFunc
	done   chan struct{} // run has returned and every ack is marked
	// following counts the goroutines that wait for a message's ack.
	following sync.WaitGroup

	mu    sync.Mutex
	parts map[int32]*partition
	// marked is, per partition, the offset after its acked prefix: what
	// the next commit makes durable.
	marked map[int32]kgo.EpochOffset
}

// partition tracks the messages of one partition handed out and not yet
// committable. gen changes when the partition is revoked or re-read, so
// that acks of messages handed out before are ignored.
type partition struct {
	gen     uint64
	pending []int64 // offsets in order
	acked   map[int64]bool
	epoch   int32
}

var generation struct {
	sync.Mutex
	n uint64
}

func nextGen() uint64 {
	generation.Lock()
	defer generation.Unlock()
	generation.n++
	return generation.n
}

// revoked commits what was acked of the partitions going away (a revoke
// callback of our own replaces franz-go's, which would) and forgets them.
func (c *consumer) revoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	if err := c.commit(ctx); err != nil {
		c.cfg.Logger.Warn("subscriber: commit on revoke failed; the next owner re-reads from the last commit",
			"group", c.cfg.ConsumerGroup, "error", err)
	}
	c.forget(revoked)
}

// commitLoop commits the acked offsets every CommitInterval until ctx ends.
func (c *consumer) commitLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.commit(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Logger.Warn("subscriber: commit failed; retrying at the next interval",
				"group", c.cfg.ConsumerGroup, "error", err)
		}
	}
}

// commit commits the offsets marked so far, after BeforeCommit: the
// offsets are taken first, so BeforeCommit sees every message they cover
// as acked.
func (c *consumer) commit(ctx context.Context) error {
	c.mu.Lock()
	marked := maps.Clone(c.marked)
	c.mu.Unlock()
	if len(marked) == 0 {
		return nil
	}
	if c.cfg.BeforeCommit != nil {
		// bounded: a database that hangs must not hold a revoke up
		bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.cfg.BeforeCommit(bctx)
		cancel()
		if err != nil {
			return fmt.Errorf("subscriber: before commit: %w", err)
		}
	}
	var err error
	offsets := map[string]map[int32]kgo.EpochOffset{c.topic: marked}
	c.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, cerr error) {
		if cerr != nil {
			err = cerr
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && err == nil {
					err = perr
				}
			}
		}
	})
	if err != nil {
		return fmt.Errorf("subscriber: commit: %w", err)
	}
	c.mu.Lock()
	for p, o := range marked {
		if c.marked[p] == o {
			delete(c.marked, p) // committed, and not moved since
		}
	}
	c.mu.Unlock()
	return nil
}

// lost forgets partitions taken away without a chance to commit.
func (c *consumer) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) { c.forget(lost) }

func (c *consumer) forget(revoked map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range revoked[c.topic] {
		delete(c.parts, p)
		delete(c.marked, p) // its next owner commits it from now on
	}
}

func (c *consumer) run(ctx context.Context) {
	defer close(c.out)
	var warned time.Time
	for {
		// wait for a free slot, then poll as many as are free
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		free := 1
		for free < cap(c.slots) {
			select {
			case c.slots <- struct{}{}:
				free++
				continue
			default:
			}
			break
		}
		fetches := c.client.PollRecords(ctx, free)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			// once in a while: a broker away fails every poll
			if !errors.Is(err, context.Canceled) && time.Since(warned) > 10*time.Second {
				warned = time.Now()
				c.cfg.Logger.Warn("subscriber: fetch failed; retrying", "topic", topic, "partition", p,
					"group", c.cfg.ConsumerGroup, "error", err)
			}
		})
		var records []*kgo.Record
		fetches.EachRecord(func(r *kgo.Record) { records = append(records, r) })
		for range free - len(records) {
			<-c.slots // give back what the poll did not use
		}
		for _, r := range records {
			msg := c.track(ctx, r)
			select {
			case c.out <- msg:
			case <-ctx.Done():
				return
			}
		}
	}
}

// track registers r as in flight and returns its message, whose ack or
// nack is followed in a goroutine of its own.
func (c *consumer) track(ctx context.Context, r *kgo.Record) *message.Message {
	c.mu.Lock()
	p := c.parts[r.Partition]
	if p == nil {
		p = &partition{gen: nextGen(), acked: map[int64]bool{}}
		c.parts[r.Partition] = p
	}
	p.pending = append(p.pending, r.Offset)
	p.epoch = r.LeaderEpoch
	gen := p.gen
	c.mu.Unlock()

	msg := toMessage(r)
	msg.SetContext(ctx)
	c.following.Add(1)
	go func() {
		defer c.following.Done()
		defer func() { <-c.slots }()
		select {
		case <-msg.Acked():
			c.acked(r.Partition, gen, r.Offset)
		case <-msg.Nacked():
			c.nacked(ctx, r.Partition, gen, r.Offset)
		case <-ctx.Done():
			// An ack that raced the shutdown still counts: Close commits it.
			select {
			case <-msg.Acked():
				c.acked(r.Partition, gen, r.Offset)
			default:
			}
		}
	}()
	return msg
}

// acked marks the offset; once every message before it is acked too, the
// offset after them becomes committable.
func (c *consumer) acked(part int32, gen uint64, offset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parts[part]
	if p == nil || p.gen != gen {
		return // revoked or re-read meanwhile
	}
	p.acked[offset] = true
	last := int64(-1)
	for len(p.pending) > 0 && p.acked[p.pending[0]] {
		last = p.pending[0]
		delete(p.acked, last)
		p.pending = p.pending[1:]
	}
	if last >= 0 {
		c.marked[part] = kgo.EpochOffset{Epoch: p.epoch, Offset: last + 1}
	}
}

// nacked re-reads the partition from the nacked offset after a pause.
func (c *consumer) nacked(ctx context.Context, part int32, gen uint64, offset int64) {
	c.mu.Lock()
	p := c.parts[part]
	if p == nil || p.gen != gen {
		c.mu.Unlock()
		return
	}
	delete(c.parts, part)
	c.mu.Unlock()
	select {
	case <-time.After(c.cfg.NackResendSleep):
	case <-ctx.Done():
		return
	}
	c.client.SetOffsets(map[string]map[int32]kgo.EpochOffset{c.topic: {part: {Epoch: -1, Offset: offset}}})
}

func toMessage(r *kgo.Record) *message.Message {
	md := make(message.Metadata, len(r.Headers))
	id := ""
	for _, h := range r.Headers {
		if h.Key == uuidHeader {
			id = string(h.Value)
			continue
		}
		md[h.Key] = string(h.Value)
	}
	msg := message.NewMessage(id, r.Value)
	msg.Metadata = md
	return msg
}
