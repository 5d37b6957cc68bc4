package kafka

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kgo"
)

// recordOverhead is room for a record's framing and its batch's header, so
// that a record the size check lets through also fits franz-go's own check.
const recordOverhead = 1024

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Brokers  []string
	ClientID string
	// MaxMessageBytes caps one message (default MaxMessageBytes); the topic's
	// max.message.bytes lowers it (see EnsureTopic).
	MaxMessageBytes int32
	// DeliveryTimeout bounds how long a message may wait for Kafka before
	// Send reports it failed (retriable), so a sender is never stuck forever.
	DeliveryTimeout time.Duration
	Logger          *slog.Logger
}

func (c *PublisherConfig) setDefaults() {
	if c.ClientID == "" {
		c.ClientID = "participation-relay"
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = MaxMessageBytes
	}
	if c.DeliveryTimeout <= 0 {
		c.DeliveryTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports what is missing.
func (c PublisherConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("publisher: no Kafka brokers"))
	}
	if c.MaxMessageBytes > 0 && c.MaxMessageBytes < 4096 {
		errs = append(errs, fmt.Errorf("publisher: max message bytes %d is below 4096", c.MaxMessageBytes))
	}
	return errors.Join(errs...)
}

// Publisher is a Watermill message.Publisher over franz-go that sends many
// messages per produce request. Writes are idempotent, so every partition's
// messages (and so every key's) land in the order given, without duplicates
// from the client's own retries. The key is the partition key metadata.
type Publisher struct {
	client   *kgo.Client
	cfg      PublisherConfig
	mu       sync.Mutex
	limits   map[string]int32 // topic → the largest message it takes
	closeErr sync.Once
}

// NewPublisher returns a publisher. It does not reach Kafka yet: a broker
// that is down makes Send fail (retriably), never NewPublisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Publisher{cfg: cfg, limits: map[string]int32{}}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// Sarama's placement (FNV-1a), so campaigns stay on the partitions
		// the previous, sarama-based relay gave them.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(kgo.SaramaCompatHasher(fnv32a))),
		kgo.ProducerBatchMaxBytesFn(p.limit),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.NoCompression()),
		kgo.ProducerLinger(0), // Send hands over whole batches; waiting adds only latency
		kgo.MaxBufferedRecords(100_000),
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
		// Without it a record in flight when the broker died is never given
		// up: Send, and the relay's shutdown, would wait for the broker. A
		// record given up and sent again may land twice, which at-least-once
		// delivery allows; the key's order holds.
		kgo.AllowIdempotentProduceCancellation(),
		kgo.DialTimeout(3*time.Second),
		kgo.RetryBackoffFn(func(tries int) time.Duration { return min(time.Duration(tries)*100*time.Millisecond, time.Second) }),
		kgo.WithLogger(slogAdapter{cfg.Logger}),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	p.client = client
	return p, nil
}

func fnv32a(b []byte) uint32 {
	h := fnv.New32a()
	_, _ = h.Write(b)
	return h.Sum32()
}

// limit is the batch cap franz-go asks for once per partition.
func (p *Publisher) limit(topic string) int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.limits[topic]; ok {
		return l
	}
	return p.cfg.MaxMessageBytes
}

// Client is the underlying franz-go client (for admin requests).
func (p *Publisher) Client() *kgo.Client { return p.client }

// Publish sends messages to topic and waits for Kafka's acknowledgement of
// every one (Watermill's interface). It fails when any message failed.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	ctx := context.Background()
	if len(msgs) > 0 {
		ctx = msgs[0].Context()
	}
	var errs []error
	for i, err := range p.Send(ctx, topic, msgs) {
		if err != nil {
			errs = append(errs, fmt.Errorf("message %s: %w", msgs[i].UUID, err))
		}
	}
	return errors.Join(errs...)
}

// Send sends msgs to topic in one go and returns, per message, nil once
// Kafka acknowledged it or why not. A message too large for the topic is
// refused before anything is sent (ErrTooLarge), and the later messages of
// its key are held back (a *HeldError), so a key's order never has a hole.
func (p *Publisher) Send(ctx context.Context, topic string, msgs []*message.Message) []error {
	errs := make([]error, len(msgs))
	limit := int(p.limit(topic))
	blockedBy := map[string]string{}
	records := make([]*kgo.Record, 0, len(msgs))
	index := make([]int, 0, len(msgs))
	for i, m := range msgs {
		key := m.Metadata.Get(MetaPartitionKey)
		if behind, ok := blockedBy[key]; ok {
			errs[i] = &HeldError{Behind: behind}
			continue
		}
		rec := toRecord(topic, key, m)
		if size := recordSize(rec); size+recordOverhead > limit {
			errs[i] = fmt.Errorf("%w: %d bytes, topic %s takes at most %d", ErrTooLarge, size, topic, limit-recordOverhead)
			blockedBy[key] = m.UUID
			continue
		}
		records = append(records, rec)
		index = append(index, i)
	}
	if len(records) == 0 {
		return errs
	}
	var refused []int
	for k, res := range p.client.ProduceSync(ctx, records...) {
		errs[index[k]] = res.Err
		if Permanent(res.Err) {
			refused = append(refused, k)
		}
	}
	if len(refused) > 1 {
		p.isolate(ctx, msgs, records, index, refused, errs)
	}
	return errs
}

// isolate finds which of several refused records Kafka refuses on its own:
// the broker refuses a whole batch for one record too large for it, and the
// others in that batch deserve another chance. A record sent again alone
// that is refused too blocks its key; the key's later refused records are
// then held, not sent.
func (p *Publisher) isolate(ctx context.Context, msgs []*message.Message, records []*kgo.Record, index, refused []int, errs []error) {
	blockedBy := map[string]string{}
	for _, k := range refused {
		i, key := index[k], string(records[k].Key)
		if behind, ok := blockedBy[key]; ok {
			errs[i] = &HeldError{Behind: behind}
			continue
		}
		r := records[k]
		errs[i] = p.client.ProduceSync(ctx, &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: r.Headers}).FirstErr()
		if Permanent(errs[i]) {
			blockedBy[key] = msgs[i].UUID
		}
	}
}

func toRecord(topic, key string, m *message.Message) *kgo.Record {
	var buf [16]string // a message carries ten metadata keys: no allocation for them
	names := buf[:0]
	size := len(m.UUID)
	for k, v := range m.Metadata {
		names = append(names, k)
		size += len(v)
	}
	slices.Sort(names) // the same bytes for the same message, every time
	// One buffer holds every header's value (a record per event: this
	// was a dozen allocations each).
	values := make([]byte, 0, size)
	headers := make([]kgo.RecordHeader, 0, len(names)+1)
	values = append(values, m.UUID...)
	headers = append(headers, kgo.RecordHeader{Key: UUIDHeader, Value: values[:len(m.UUID):len(m.UUID)]})
	for _, k := range names {
		start := len(values)
		values = append(values, m.Metadata[k]...)
		headers = append(headers, kgo.RecordHeader{Key: k, Value: values[start:len(values):len(values)]})
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: m.Payload, Headers: headers}
}

func recordSize(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value) + 8
	}
	return n
}

// Close flushes nothing (Send waits for its messages) and closes the client.
func (p *Publisher) Close() error {
	p.closeErr.Do(p.client.Close)
	return nil
}

// slogAdapter logs franz-go's warnings and errors through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (a slogAdapter) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		a.l.Error("kafka: "+msg, keyvals...)
	case kgo.LogLevelWarn:
		a.l.Warn("kafka: "+msg, keyvals...)
	}
}
