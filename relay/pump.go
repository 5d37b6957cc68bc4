package relay

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/backoff"
	"github.com/shopevents/participation/kafka"
)

// sendError stops a pump when Kafka did not take an event for a reason that may pass.
type sendError struct {
	err    error
	unsent int
}

func (e *sendError) Error() string { return e.err.Error() }

type tailBatch struct {
	events []eventstore.RecordedEvent
	msgs   []*message.Message // msgs[i] is events[i]'s message
	err    error
}

// pump publishes from the relay's position until ctx ends (nil), Kafka
// fails (*sendError) or the database does. A reader goroutine fetches the
// next batches from the store while the current one is with Kafka.
func (r *Relay) pump(ctx context.Context, lead *eventstore.Leadership) error {
	readCtx, stopReading := context.WithCancel(ctx)
	batches := make(chan tailBatch, 2)
	readerDone := make(chan struct{})
	go func() { defer close(readerDone); r.read(readCtx, r.Position(), batches) }()
	defer func() { stopReading(); <-readerDone }()

	tick := time.NewTicker(min(r.cfg.Standby, r.cfg.RetryPoll) / 2)
	defer tick.Stop()
	lastCheck, lastRetry := time.Now(), time.Time{}
	for {
		if time.Since(lastCheck) > r.cfg.Standby {
			if err := lead.Check(ctx); err != nil {
				return err
			}
			lastCheck = time.Now()
		}
		if time.Since(lastRetry) > r.cfg.RetryPoll {
			if err := r.drainParked(ctx); err != nil {
				return err
			}
			lastRetry = time.Now()
		}
		var b tailBatch
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			continue
		case b = <-batches:
		}
		if b.err != nil {
			return b.err
		}
		settled, rows, blocked, sendErr := r.publish(ctx, b.events, b.msgs)
		if settled > 0 {
			last := b.events[settled-1].Position
			if len(rows) > 0 { // the parked rows and the checkpoint past them, together
				if err := r.store.Park(ctx, r.cfg.Name, last, rows); err != nil {
					return err
				}
				r.noteParked(rows, blocked)
			}
			r.position.Store(last) // saveCheckpoints makes it durable
		}
		if sendErr != nil {
			return &sendError{err: sendErr, unsent: len(b.events) - settled}
		}
		r.connected.Store(true)
	}
}

// read tails the store from position after into out until ctx ends. The
// batches are publicized in a stage of their own (build), so that the next
// batch's query overlaps with the CPU work of opening and masking this one;
// one goroutine per stage keeps the store's order.
func (r *Relay) read(ctx context.Context, after int64, out chan<- tailBatch) {
	raw := make(chan tailBatch, 1)
	built := make(chan struct{})
	go func() { defer close(built); r.build(ctx, raw, out) }()
	defer func() { close(raw); <-built }()
	tail := r.store.NewTail(after)
	w := &waker{r: r}
	defer w.close()
	armed := false
	for ctx.Err() == nil {
		events, waiting, err := tail.Next(ctx, r.cfg.BatchSize)
		if armed && (err != nil || len(events) > 0 || waiting) {
			w.disarm(ctx)
			armed = false
		}
		switch {
		case err != nil:
			select {
			case raw <- tailBatch{err: err}:
			case <-ctx.Done():
			}
			return
		case len(events) > 0:
			select {
			case raw <- tailBatch{events: events}:
			case <-ctx.Done():
			}
		case waiting:
			backoff.Sleep(ctx, 2*time.Millisecond)
		case armed: // nothing new after arming either: wait for an append
			w.wait(ctx)
			armed = false
		default: // caught up: arm, then read once more before waiting
			armed = w.arm(ctx)
		}
	}
}

// build turns read batches into messages, in order, until in closes, ctx
// ends or a batch fails (the pump then stops and reads again).
func (r *Relay) build(ctx context.Context, in <-chan tailBatch, out chan<- tailBatch) {
	for b := range in {
		if b.err == nil {
			b.msgs, b.err = r.messages(ctx, b.events)
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
		if b.err != nil {
			return
		}
	}
}

// checkpointEvery is how often the leader makes its position durable. Each
// save is a durable commit of its own; at 20 ms they were 50 fsyncs a
// second beside the appends. A crash re-publishes at most this much
// (delivery is at-least-once and the projectors skip what they applied).
const checkpointEvery = 200 * time.Millisecond

// saveCheckpoints makes the published position durable every
// checkpointEvery, off the publishing path, and once more when ctx ends
// (shutdown, leadership lost): no commit waits per batch.
func (r *Relay) saveCheckpoints(ctx context.Context, saved int64) {
	save := func(ctx context.Context) {
		if p := r.position.Load(); p > saved {
			if err := r.store.SaveCheckpoint(ctx, r.cfg.Name, p); err != nil {
				if ctx.Err() != nil {
					return // stopping: the final save below, on its own context, does it
				}
				r.cfg.Logger.Warn("relay: save checkpoint", "relay", r.cfg.Name, "position", p, "err", err)
				return
			}
			saved = p
		}
	}
	for ctx.Err() == nil {
		backoff.Sleep(ctx, checkpointEvery)
		save(ctx)
	}
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	save(final)
}

// publish sends a batch and sorts out the answers in position order. It
// returns how many events, from the first, are settled (acknowledged,
// refused or held), the parked rows among them and the campaigns they
// blocked, and the error that stopped it at the first event Kafka did not
// take for a reason that may pass.
func (r *Relay) publish(ctx context.Context, events []eventstore.RecordedEvent, all []*message.Message) (settled int, rows []eventstore.ParkedEvent, blocked map[string]bool, err error) {
	msgs := make([]*message.Message, 0, len(all))
	for i, e := range events {
		if !r.blocked[e.PartitionKey] {
			msgs = append(msgs, all[i])
		}
	}
	errs := r.sender.Send(ctx, r.cfg.Topic, msgs)
	blocked = map[string]bool{}
	j := 0
	for i, e := range events {
		if r.blocked[e.PartitionKey] {
			rows = append(rows, heldRow(e))
			continue
		}
		err := errs[j]
		j++
		switch {
		case blocked[e.PartitionKey]:
			// After a refusal of its campaign in this batch: even if Kafka
			// took it, it goes out again after the refused one.
			rows = append(rows, heldRow(e))
		case err == nil:
		case kafka.Permanent(err):
			rows = append(rows, refusedRow(e, err))
			blocked[e.PartitionKey] = true
		default:
			return i, rows, blocked, err
		}
	}
	return len(events), rows, blocked, nil
}

// messages builds the messages of events, publicized first when configured.
func (r *Relay) messages(ctx context.Context, events []eventstore.RecordedEvent) ([]*message.Message, error) {
	if r.cfg.Publicize != nil && len(events) > 0 {
		public, err := r.cfg.Publicize(ctx, events)
		if err != nil {
			return nil, fmt.Errorf("publicize: %w", err)
		}
		if len(public) != len(events) {
			return nil, fmt.Errorf("publicize: %d events for %d", len(public), len(events))
		}
		events = public
	}
	msgs := make([]*message.Message, len(events))
	for i, e := range events {
		msgs[i] = r.cfg.Transform(e)
	}
	return msgs, nil
}

// noteParked logs each refusal once and blocks its campaign.
func (r *Relay) noteParked(rows []eventstore.ParkedEvent, blocked map[string]bool) {
	for _, row := range rows {
		if row.Refused {
			r.refusals.Inc()
			// ids, type and Kafka's error only: no payload, so nothing personal.
			r.cfg.Logger.Error("relay: Kafka refused an event for good; parked it, its campaign's later events wait behind it",
				"relay", r.cfg.Name, "position", row.Position, "event_id", row.EventID, "type", row.Type,
				"campaign", row.Campaign, "err", row.Error)
		}
	}
	for k := range blocked {
		r.blocked[k] = true
	}
}
