package relay

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
)

// Parking. An event Kafka refuses for good gets a parked_events row
// (refused), and every later event of its campaign one too (held), in the
// same transaction that moves the checkpoint past them: the relay goes on
// with the other campaigns, and the blocked campaign's order survives. The
// queue of a campaign goes out again, head first, when `relay retry` asks
// for its head (retry_requested); only the leader sends, so the order holds
// with any number of instances.

func heldRow(e eventstore.RecordedEvent) eventstore.ParkedEvent {
	return eventstore.ParkedEvent{Position: e.Position, EventID: e.ID, Campaign: e.PartitionKey, Type: e.Type}
}

func refusedRow(e eventstore.RecordedEvent, err error) eventstore.ParkedEvent {
	r := heldRow(e)
	r.Refused, r.Error = true, err.Error()
	return r
}

func blockedKeys(ctx context.Context, store *eventstore.Store) (map[string]bool, error) {
	keys, err := store.ParkedCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out, nil
}

// drainParked sends again the queues whose head was asked for, and those
// left without a refused head (a retry that sent the head but stopped).
func (r *Relay) drainParked(ctx context.Context) error {
	if len(r.blocked) == 0 {
		return nil
	}
	keys, err := r.store.DueParkedCampaigns(ctx)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if err := r.drainKey(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// drainKey sends one campaign's queue from its head: a refused head alone
// (so that nothing behind it goes out if Kafka refuses it again), then the
// held events up to the next refused one. It stops at the first failure.
func (r *Relay) drainKey(ctx context.Context, key string) (err error) {
	queue, err := r.store.ParkedQueue(ctx, key)
	if err != nil {
		return err
	}
	// What went out leaves the table at the end, all at once: `relay retry`
	// then sees a queue either waiting or gone.
	var sentAll []int64
	defer func() {
		if len(sentAll) > 0 {
			if derr := r.store.Unpark(ctx, sentAll); derr != nil && err == nil {
				err = derr
			}
		}
	}()
	for len(queue) > 0 {
		head := queue[0]
		if head.Refused && !head.RetryRequested {
			break
		}
		n := 1
		if !head.Refused {
			for n < len(queue) && n < r.cfg.BatchSize && !queue[n].Refused {
				n++
			}
		}
		sent, stop, err := r.sendQueued(ctx, queue[:n])
		sentAll = append(sentAll, sent...)
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
		queue = queue[n:]
	}
	if len(queue) == 0 {
		if err := r.store.Unpark(ctx, sentAll); err != nil {
			return err
		}
		sentAll = nil // deleted: the campaign may flow
		delete(r.blocked, key)
		r.cfg.Logger.Info("relay: a parked campaign's queue went out; it flows again", "relay", r.cfg.Name, "campaign", key)
	}
	return nil
}

// sendQueued sends parked events in order and returns the positions Kafka
// took, up to the first failure; a refusal is recorded on its row.
func (r *Relay) sendQueued(ctx context.Context, run []eventstore.ParkedEvent) (sent []int64, stop bool, err error) {
	positions := make([]int64, len(run))
	for i, q := range run {
		positions[i] = q.Position
	}
	events, err := r.store.ReadPositions(ctx, positions)
	if err != nil {
		return nil, false, err
	}
	msgs, err := r.messages(ctx, events)
	if err != nil {
		return nil, true, err
	}
	for i, err := range r.sender.Send(ctx, r.cfg.Topic, msgs) {
		e := events[i]
		switch {
		case err == nil:
			sent = append(sent, e.Position)
			continue
		case kafka.Permanent(err):
			row := refusedRow(e, err)
			if uerr := r.store.RefuseParked(ctx, e.Position, row.Error); uerr != nil {
				return sent, true, uerr
			}
			r.noteParked([]eventstore.ParkedEvent{row}, nil)
		default:
			r.cfg.Logger.Warn("relay: sending a parked event failed; will try again", "relay", r.cfg.Name,
				"position", e.Position, "err", err)
		}
		return sent, true, nil
	}
	return sent, false, nil
}

func parkedGauge(store *eventstore.Store) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "participation_relay_parked_events",
		Help: "Events parked now: refused by Kafka for good, or held behind such an event of their campaign.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := store.CountParked(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
}
