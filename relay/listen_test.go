package relay_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/relay"
)

// A caught-up relay waits for appends instead of polling: with its polls an
// hour apart, every event still goes out, one append at a time (each wakes
// it) and from concurrent appenders (none of whose commits slips between
// the relay's last read and its wait).
func TestACaughtUpRelayIsWokenByAppends(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	campaigns := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}

	r, _ := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers, Idle: time.Hour, Fallback: time.Hour})
	waitFor(t, "a leader", r.Leader)
	sent := 0
	for range 10 {
		appendEvents(t, store, campaigns, 1)
		sent++
		waitFor(t, "the relay publishes the append", caughtUp(t, store, r))
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 10 {
				e := anEvent(i)
				e.PartitionKey = campaigns[i%len(campaigns)]
				if _, err := store.Append(context.Background(), "s-"+uuid.NewString(), eventstore.NoStream, e); err != nil {
					t.Error(err)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	sent += 80
	waitFor(t, "the relay publishes what the appenders wrote", caughtUp(t, store, r))
	readTopic(t, brokers, topic, sent)
}
