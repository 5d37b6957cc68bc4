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
	// following counts the partitions' watchers (one per partition held,
	// and one per partition given up until its messages are settled).
	following sync.WaitGroup

	mu    sync.Mutex
	parts map[int32]*partition
	// marked is, per partition, the offset after its acked prefix: what
	// the next commit makes durable.
	marked map[int32]kgo.EpochOffset
}

// partition holds the messages of one partition handed out and not yet
// settled, in offset order. One goroutine watches them (watch): only the
// oldest can move the committable offset, so it waits for that one's ack
// or nack alone, and finds the later ones acked meanwhile at once. A
// partition revoked, lost or re-read after a nack is gone: its acks no
// longer count, and a new partition value tracks what is read after.
type partition struct {
	epoch   int32
	pending []inflight
	wake    chan struct{} // something was added, or the partition is gone
	gone    bool
}

type inflight struct {
	msg    *message.Message
	offset int64
}

func (p *partition) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
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
	for _, n := range revoked[c.topic] {
		if p := c.parts[n]; p != nil {
			p.gone = true
			p.signal()
		}
		delete(c.parts, n)
		delete(c.marked, n) // its next owner commits it from now on
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

// track registers r as in flight with its partition's watcher and returns
// its message.
func (c *consumer) track(ctx context.Context, r *kgo.Record) *message.Message {
	msg := toMessage(r)
	msg.SetContext(ctx)
	c.mu.Lock()
	p := c.parts[r.Partition]
	if p == nil {
		p = &partition{wake: make(chan struct{}, 1)}
		c.parts[r.Partition] = p
		c.following.Add(1)
		go c.watch(ctx, r.Partition, p)
	}
	p.pending = append(p.pending, inflight{msg: msg, offset: r.Offset})
	p.epoch = r.LeaderEpoch
	p.signal()
	c.mu.Unlock()
	return msg
}

// watch settles p's messages in offset order until ctx ends, or until p is
// gone and every message handed out of it was acked or nacked (each holds
// a slot until then). An ack marks the offset after it as committable: all
// before it are settled already. A nack re-reads the partition from there.
func (c *consumer) watch(ctx context.Context, part int32, p *partition) {
	defer c.following.Done()
	for {
		c.mu.Lock()
		if len(p.pending) == 0 {
			gone := p.gone
			c.mu.Unlock()
			if gone {
				return
			}
			select {
			case <-p.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		head := p.pending[0]
		c.mu.Unlock()
		select {
		case <-head.msg.Acked():
			c.settle(part, p, head, true)
		case <-head.msg.Nacked():
			if c.settle(part, p, head, false) {
				c.reread(ctx, part, head.offset)
			}
		case <-ctx.Done():
			c.settleAcked(part, p) // acks that raced the shutdown still count: Close commits them
			return
		}
	}
}

// settle takes head off p and gives its slot back. An ack of a partition
// still held marks the offset after it; a nack of one makes it gone, and
// settle reports true: the caller re-reads from head.
func (c *consumer) settle(part int32, p *partition, head inflight, acked bool) (reread bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p.pending = p.pending[1:]
	<-c.slots
	if p.gone {
		return false
	}
	if acked {
		c.marked[part] = kgo.EpochOffset{Epoch: p.epoch, Offset: head.offset + 1}
		return false
	}
	p.gone = true
	delete(c.parts, part) // what is read after the nack is tracked anew
	return true
}

// settleAcked marks the acked prefix of p's messages, without waiting.
func (c *consumer) settleAcked(part int32, p *partition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(p.pending) > 0 && !p.gone {
		select {
		case <-p.pending[0].msg.Acked():
			c.marked[part] = kgo.EpochOffset{Epoch: p.epoch, Offset: p.pending[0].offset + 1}
			p.pending = p.pending[1:]
		default:
			return
		}
	}
}

// reread delivers the partition again from offset, after a pause.
func (c *consumer) reread(ctx context.Context, part int32, offset int64) {
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
