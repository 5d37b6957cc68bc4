package kafka_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/internal/testenv"
)

// BenchmarkSubscriberOnePartition measures the subscriber alone: 50,000
// messages of one partition taken and acked in batches of 1,000, as a
// projector does; msgs/s runs from the first message received to the
// last acked (the group join excluded).
func BenchmarkSubscriberOnePartition(b *testing.B) {
	const n, batch = 50_000, 1000
	brokers := testenv.KafkaBrokers(b)
	topic := createTopic(b, brokers, 1)
	values := make([][]byte, n)
	for i := range values {
		values[i] = make([]byte, 300) // about a registration's JSON
	}
	produce(b, brokers, topic, values...)
	var busy time.Duration
	for b.Loop() {
		_, msgs := subscribe(b, brokers, "bench-"+uuid.NewString(), topic)
		(<-msgs).Ack() // the group joined
		start := time.Now()
		for got := 1; got < n; {
			k := min(batch, n-got)
			for _, m := range receive(b, msgs, k) {
				m.Ack()
			}
			got += k
		}
		busy += time.Since(start)
	}
	b.ReportMetric(float64(b.N*n)/busy.Seconds(), "msgs/s")
}
