package relay_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/relay"
)

// The store is read, publicized and sent in stages of their own: across
// many small batches, and a publicize that fails now and then (the pump
// starts again from its position), every event goes out, publicized, each
// campaign's in store order.
func TestThePipelinedRelayKeepsEveryCampaignsOrderThroughPublicizeFailures(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	campaigns := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	_, sent := appendEvents(t, store, campaigns, 150)

	var calls atomic.Int64
	publicize := func(_ context.Context, events []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
		if calls.Add(1)%4 == 0 {
			return nil, errors.New("keys unavailable") // e.g. the database away for a moment
		}
		out := make([]eventstore.RecordedEvent, len(events))
		for i, e := range events {
			out[i] = e
			out[i].Data = []byte(`{"public":` + strconv.FormatInt(e.Position, 10) + `}`)
		}
		return out, nil
	}
	r, _ := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers, Partitions: 2, BatchSize: 7, Publicize: publicize})
	_, more := appendEvents(t, store, campaigns, 60) // while it runs
	for k, v := range more {
		sent[k] = v
	}
	records := readTopic(t, brokers, topic, len(sent))
	waitFor(t, "relay at head", caughtUp(t, store, r))

	last := map[string]int64{}
	for _, rec := range records {
		if _, ok := sent[rec.id()]; !ok {
			t.Fatalf("unexpected message %s", rec.id())
		}
		pos, _ := strconv.ParseInt(rec.headers[kafka.MetaPosition], 10, 64)
		if want := `{"public":` + strconv.FormatInt(pos, 10) + `}`; string(rec.value) != want {
			t.Errorf("message %s = %s, want the publicized %s", rec.id(), rec.value, want)
		}
		// A batch sent again after a failure repeats events (at-least-once),
		// never goes back behind what followed it in its campaign.
		if pos < last[rec.key] {
			t.Errorf("campaign %s: position %d after %d, out of order", rec.key, pos, last[rec.key])
		}
		last[rec.key] = max(last[rec.key], pos)
	}
	if calls.Load() < 8 {
		t.Errorf("publicize called %d times, want many batches", calls.Load())
	}
}
