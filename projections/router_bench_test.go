package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/projections"
)

// BenchmarkRouterOnePartition measures a projector end to end: events of
// one campaign already on a one-partition topic, consumed by our
// subscriber and applied in batches, durably when the server is; events/s
// runs from the router's start (the group join included) to the last
// event applied, steady-events/s from the first batch applied. Each read model
// has its own consumer group; they run one at a time here.
func BenchmarkRouterOnePartition(b *testing.B) {
	const n = 20_000
	brokers := testenv.KafkaBrokers(b)
	for _, name := range []string{projections.ParticipantsProjection, projections.AnalyticsProjection, projections.CampaignsProjection} {
		b.Run(name, func(b *testing.B) {
			var (
				events  int
				busy    time.Duration
				batches int
			)
			for b.Loop() {
				b.StopTimer()
				e := newEnv(b)
				topic := createTopic(b, brokers, 1)
				campaign := uuid.New()
				recs := registrations(campaign, 0, n)
				produceEvents(b, brokers, topic, recs)
				applied := make(chan int, 1024)
				router, err := projections.NewRouter(projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: e.pool,
					Projections: []string{name}, OnApplied: func(_ string, n int) { applied <- n }})
				if err != nil {
					b.Fatal(err)
				}
				done := make(chan error, 1)
				b.StartTimer()
				go func() { done <- router.Run(context.Background()) }()
				var first time.Time
				for got := 0; got < n; {
					select {
					case k := <-applied:
						if got == 0 {
							first = time.Now()
						}
						got += k
						batches++
					case <-time.After(2 * time.Minute):
						b.Fatalf("%d of %d applied", got, n)
					}
				}
				b.StopTimer()
				busy += time.Since(first)
				_ = router.Close()
				<-done
				events += n
				b.StartTimer()
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			// without the group join: from the first batch applied to the last
			b.ReportMetric(float64(events)/busy.Seconds(), "steady-events/s")
			b.ReportMetric(float64(events)/float64(batches), "events/batch")
		})
	}
}

func produceEvents(b *testing.B, brokers []string, topic string, recs []eventstore.RecordedEvent) {
	b.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.MaxBufferedRecords(len(recs)+1))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	out := make([]*kgo.Record, len(recs))
	for i, e := range recs {
		m := kafka.ToMessage(e)
		r := &kgo.Record{Topic: topic, Key: []byte(e.PartitionKey), Value: m.Payload,
			Headers: []kgo.RecordHeader{{Key: "_watermill_message_uuid", Value: []byte(m.UUID)}}}
		for k, v := range m.Metadata {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		out[i] = r
	}
	if err := cl.ProduceSync(context.Background(), out...).FirstErr(); err != nil {
		b.Fatal(err)
	}
}
