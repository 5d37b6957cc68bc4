package kafka_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
)

// createTopic creates a topic with partitions partitions that takes
// messages of kafka.MaxMessageBytes.
func createTopic(t testing.TB, brokers []string, partitions int32) string {
	t.Helper()
	topic := testenv.Topic(t)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	admin, err := sarama.NewClusterAdmin(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	maxBytes := fmt.Sprint(kafka.MaxMessageBytes)
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"max.message.bytes": &maxBytes}}, false); err != nil {
		t.Fatal(err)
	}
	// A real broker answers CreateTopic before every partition has a leader:
	// a producer right after it gets UNKNOWN_TOPIC_OR_PARTITION (CI did).
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := topicReady(admin, topic, partitions)
		if err == nil {
			return topic
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s not ready: %v", topic, err)
		}
	}
}

func topicReady(admin sarama.ClusterAdmin, topic string, partitions int32) error {
	meta, err := admin.DescribeTopics([]string{topic})
	if err != nil {
		return err
	}
	if len(meta) != 1 || meta[0].Err != sarama.ErrNoError {
		return fmt.Errorf("metadata: %v", meta)
	}
	if got := int32(len(meta[0].Partitions)); got != partitions {
		return fmt.Errorf("%d partitions of %d", got, partitions)
	}
	for _, p := range meta[0].Partitions {
		if p.Err != sarama.ErrNoError || p.Leader < 0 {
			return fmt.Errorf("partition %d: leader %d, %v", p.ID, p.Leader, p.Err)
		}
	}
	return nil
}

// produce sends values to one partition (one key), in order.
func produce(t testing.TB, brokers []string, topic string, values ...[]byte) []string {
	t.Helper()
	// A real broker can answer UNKNOWN_TOPIC_OR_PARTITION for a moment
	// after CreateTopic returns, until the partition's leader is elected:
	// wait that out instead of failing on the client's default 4 tries.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerBatchMaxBytes(kafka.MaxMessageBytes),
		kgo.MaxBufferedBytes(4*kafka.MaxMessageBytes), kgo.UnknownTopicRetries(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var (
		ids     []string
		records []*kgo.Record
	)
	for _, v := range values {
		id := uuid.NewString()
		ids = append(ids, id)
		records = append(records, &kgo.Record{Topic: topic, Key: []byte("one-key"), Value: v,
			Headers: []kgo.RecordHeader{{Key: "_watermill_message_uuid", Value: []byte(id)}, {Key: "k", Value: []byte("v")}}})
	}
	// one call: the idempotent producer keeps the key's order
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func subscribe(t testing.TB, brokers []string, group, topic string) (*kafka.Subscriber, <-chan *message.Message) {
	t.Helper()
	sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: group,
		CommitInterval: 100 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return sub, msgs
}

func receive(t testing.TB, msgs <-chan *message.Message, n int) []*message.Message {
	t.Helper()
	var out []*message.Message
	timeout := time.After(60 * time.Second)
	for len(out) < n {
		select {
		case m := <-msgs:
			out = append(out, m)
		case <-timeout:
			t.Fatalf("received %d messages of %d", len(out), n)
		}
	}
	return out
}

func uuids(ms []*message.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UUID
	}
	return out
}

// The subscriber hands out a partition's messages without waiting for
// acks, in order, and the group resumes after the last message of the
// acked prefix: an ack beyond an unacked message commits nothing past it.
func TestSubscriberKeepsManyInFlightAndCommitsTheContiguousAcks(t *testing.T) {
	t.Parallel()
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 1)
	group := "test-group-" + uuid.NewString()
	var values [][]byte
	for i := range 20 {
		values = append(values, fmt.Appendf(nil, "message %d", i))
	}
	ids := produce(t, brokers, topic, values...)

	sub, msgs := subscribe(t, brokers, group, topic)
	got := receive(t, msgs, 20) // none acked yet: all twenty in flight
	if diff := cmp.Diff(ids, uuids(got)); diff != "" {
		t.Fatalf("order (-published +received):\n%s", diff)
	}
	if got[3].Metadata.Get("k") != "v" || string(got[3].Payload) != "message 3" {
		t.Errorf("message 3: metadata %v, payload %q", got[3].Metadata, got[3].Payload)
	}
	for _, m := range got[5:] {
		m.Ack()
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}

	sub, msgs = subscribe(t, brokers, group, topic)
	again := receive(t, msgs, 20)
	if diff := cmp.Diff(ids, uuids(again)); diff != "" {
		t.Fatalf("with 0–4 not acked, everything comes again (-published +received):\n%s", diff)
	}
	for _, m := range again[:10] {
		m.Ack()
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}

	_, msgs = subscribe(t, brokers, group, topic)
	rest := receive(t, msgs, 10)
	if diff := cmp.Diff(ids[10:], uuids(rest)); diff != "" {
		t.Fatalf("after 0–9 acked, the group resumes at 10 (-want +received):\n%s", diff)
	}
}

// A nacked message comes again, with the rest of its partition after it.
func TestSubscriberRedeliversFromANack(t *testing.T) {
	t.Parallel()
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 1)
	ids := produce(t, brokers, topic, []byte("a"), []byte("b"), []byte("c"))
	sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers,
		ConsumerGroup: "test-group-" + uuid.NewString(), NackResendSleep: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	first := receive(t, msgs, 3)
	first[0].Ack()
	first[1].Nack()
	again := receive(t, msgs, 2)
	if diff := cmp.Diff(ids[1:], uuids(again)); diff != "" {
		t.Fatalf("after a nack of b (-want +received):\n%s", diff)
	}
}

// A 100,000-winner draw is one large message: the consumer fetches it.
func TestSubscriberFetchesTheLargestMessage(t *testing.T) {
	t.Parallel()
	if kafka.FetchMaxPartitionBytes < kafka.MaxMessageBytes {
		t.Fatalf("FetchMaxPartitionBytes %d < kafka.MaxMessageBytes %d", kafka.FetchMaxPartitionBytes, kafka.MaxMessageBytes)
	}
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 1)
	big := []byte(strings.Repeat(`{"participantId":"`+uuid.NewString()+`","entryNumber":"K1234567","rank":1},`, 100_000))
	ids := produce(t, brokers, topic, big, []byte("after"))
	_, msgs := subscribe(t, brokers, "test-group-"+uuid.NewString(), topic)
	got := receive(t, msgs, 2)
	if diff := cmp.Diff(ids, uuids(got)); diff != "" || len(got[0].Payload) != len(big) {
		t.Fatalf("received %d bytes, want %d; ids (-want +got):\n%s", len(got[0].Payload), len(big), diff)
	}
}
