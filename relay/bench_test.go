package relay_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/seed"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/privacy"
	"github.com/shopevents/participation/relay"
)

// benchEvents is how many events of one campaign each run relays.
const benchEvents = 50_000

var benchBatch, _ = strconv.Atoi(os.Getenv("RELAY_BENCH_BATCH"))

// benchBroker is kfake as the embedded mode runs it: data on disk, no fsync per produce.
func benchBroker(b *testing.B) []string {
	b.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(b.TempDir()), kfake.AllowAutoTopicCreation())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return c.ListenAddrs()
}

var benchPIIKey = []byte("bench-pii-key-bench-pii-key-0123456789")

// registrations stores benchEvents sealed ParticipantRegistered of one
// campaign through the real store, as `participation seed` does.
func registrations(b *testing.B, store *eventstore.Store) {
	b.Helper()
	if _, err := seed.Run(context.Background(), store, seed.Config{Campaigns: 1, Participants: benchEvents - 1,
		OwnerID: "owner-bench", PIIKey: benchPIIKey, BatchSize: 5000}, nil); err != nil {
		b.Fatal(err)
	}
}

// publicize is the service's: sealed personal data opened and masked.
func publicize(b *testing.B, store *eventstore.Store) func(context.Context, []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
	b.Helper()
	keys, err := privacy.NewKeys(benchPIIKey)
	if err != nil {
		b.Fatal(err)
	}
	return privacy.NewPublicizer(keys, store, quietLogger()).Public
}

// BenchmarkRelayOneCampaign relays benchEvents stored events of one campaign
// (one key, so one partition) into kfake, from the store to Kafka's
// acknowledgement, checkpoint included. BenchmarkRawProduceOneKey is its
// baseline: the same messages, already built, produced straight.
func BenchmarkRelayOneCampaign(b *testing.B) {
	store := newStore(b)
	brokers := benchBroker(b)
	registrations(b, store)
	head, _ := store.Head(context.Background())
	for _, variant := range []struct {
		name      string
		publicize func(context.Context, []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error)
	}{
		{"publicized", publicize(b, store)}, // as the service runs it
		{"as_stored", nil},                  // what privacy's open-and-mask costs
	} {
		b.Run(variant.name, func(b *testing.B) {
			run, total := 0, time.Duration(0)
			for b.Loop() {
				run++
				name := fmt.Sprintf("bench-%s-%d", variant.name, run)
				r, err := relay.New(store, relay.Config{Name: name, Topic: name, Brokers: brokers, Partitions: 1,
					BatchSize: benchBatch, Publicize: variant.publicize, Logger: quietLogger()})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				start := time.Now()
				go func() { _ = r.Run(ctx); close(done) }()
				for r.Position() < head {
					time.Sleep(time.Millisecond)
				}
				total += time.Since(start)
				cancel()
				<-done
			}
			b.ReportMetric(float64(run*benchEvents)/total.Seconds(), "events/s")
		})
	}
}

// BenchmarkRawProduceOneKey produces the same messages with franz-go's
// ProduceSync of 1,000 records and sarama's SendMessages of 1,000, one key.
func BenchmarkRawProduceOneKey(b *testing.B) {
	store := newStore(b)
	brokers := benchBroker(b)
	registrations(b, store)
	events, err := store.ReadAll(context.Background(), 0, benchEvents)
	if err != nil {
		b.Fatal(err)
	}
	if events, err = publicize(b, store)(context.Background(), events); err != nil {
		b.Fatal(err)
	}
	msgs := make([]*message.Message, len(events))
	for i, e := range events {
		msgs[i] = kafka.ToMessage(e)
	}
	b.Run("franz-go_ProduceSync_1000", func(b *testing.B) {
		client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0), kgo.MaxBufferedRecords(100_000), kgo.AllowAutoTopicCreation())
		if err != nil {
			b.Fatal(err)
		}
		defer client.Close()
		run, total := 0, time.Duration(0)
		for b.Loop() {
			run++
			topic := fmt.Sprintf("raw-franz-%d", run)
			start := time.Now()
			for i := 0; i < len(msgs); i += 1000 {
				records := make([]*kgo.Record, 0, 1000)
				for _, m := range msgs[i:min(i+1000, len(msgs))] {
					headers := []kgo.RecordHeader{{Key: kafka.UUIDHeader, Value: []byte(m.UUID)}}
					for k, v := range m.Metadata {
						headers = append(headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
					}
					records = append(records, &kgo.Record{Topic: topic, Key: []byte(m.Metadata.Get(kafka.MetaPartitionKey)), Value: m.Payload, Headers: headers})
				}
				if err := client.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(run*len(msgs))/total.Seconds(), "events/s")
	})
	b.Run("sarama_SendMessages_1000", func(b *testing.B) {
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V4_0_0_0
		cfg.Producer.Return.Successes = true
		cfg.Producer.RequiredAcks = sarama.WaitForAll
		cfg.Producer.Idempotent, cfg.Net.MaxOpenRequests = true, 1
		cfg.Producer.Flush.MaxMessages = 1000
		producer, err := sarama.NewSyncProducer(brokers, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer producer.Close()
		run, total := 0, time.Duration(0)
		for b.Loop() {
			run++
			topic := fmt.Sprintf("raw-sarama-%d", run)
			start := time.Now()
			for i := 0; i < len(msgs); i += 1000 {
				batch := make([]*sarama.ProducerMessage, 0, 1000)
				for _, m := range msgs[i:min(i+1000, len(msgs))] {
					headers := []sarama.RecordHeader{{Key: []byte(kafka.UUIDHeader), Value: []byte(m.UUID)}}
					for k, v := range m.Metadata {
						headers = append(headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(v)})
					}
					batch = append(batch, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(m.Metadata.Get(kafka.MetaPartitionKey)),
						Value: sarama.ByteEncoder(m.Payload), Headers: headers})
				}
				if err := producer.SendMessages(batch); err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(run*len(msgs))/total.Seconds(), "events/s")
	})
}
