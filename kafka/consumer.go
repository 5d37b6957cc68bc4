package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

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
		if h.Key == UUIDHeader {
			id = string(h.Value)
			continue
		}
		md[h.Key] = string(h.Value)
	}
	msg := message.NewMessage(id, r.Value)
	msg.Metadata = md
	return msg
}
