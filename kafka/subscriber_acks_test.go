package kafka_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/internal/testenv"
)

// Thousands of messages in flight cost the subscriber no goroutine each
// (one waited for every message's ack): a partition's watcher waits for its
// oldest message alone. Acks out of order commit nothing past a message
// not acked; once it is, the whole contiguous run is committed.
func TestSubscriberFollowsThousandsInFlightWithoutAGoroutineEach(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 1)
	group := "test-group-" + uuid.NewString()
	values := make([][]byte, 3000)
	for i := range values {
		values[i] = fmt.Appendf(nil, "message %d", i)
	}
	ids := produce(t, brokers, topic, values...)

	sub, msgs := subscribe(t, brokers, group, topic)
	first := receive(t, msgs, 10)
	before := runtime.NumGoroutine()
	rest := receive(t, msgs, len(ids)-len(first)) // none acked: all in flight
	if grown := runtime.NumGoroutine() - before; grown > 100 {
		t.Fatalf("%d more messages in flight took %d more goroutines, want no goroutine per message", len(rest), grown)
	}
	for _, m := range rest {
		m.Ack()
	}
	for _, m := range first[1:] {
		m.Ack()
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if n := groupBehind(t, brokers, group, topic); n != int64(len(ids)) {
		t.Fatalf("with the first message not acked, %d uncommitted, want all %d", n, len(ids))
	}

	sub, msgs = subscribe(t, brokers, group, topic)
	again := receive(t, msgs, len(ids))
	for _, m := range slices.Backward(again) { // the oldest last
		m.Ack()
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if n := groupBehind(t, brokers, group, topic); n != 0 {
		t.Fatalf("once every message is acked, %d uncommitted, want 0", n)
	}
}
