package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/internal/testenv"
)

func TestDatabaseIsFreshUsableAndDroppedAfterTheTest(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		ctx := t.Context()
		conn, err := pgx.Connect(ctx, testenv.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		var tables int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("fresh database %s has %d tables, want 0", name, tables)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE t (id bigint PRIMARY KEY, v text NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (1, 'x')"); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := conn.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil || v != "x" {
			t.Fatalf("read back = %q, %v; want \"x\"", v, err)
		}
		// the connection stays open: the drop must force it closed
	})
	if t.Failed() {
		return
	}
	if !strings.HasPrefix(name, "test_") {
		t.Fatalf("database name = %q, want a test_ prefix", name)
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestDatabasesOfTwoTestsDiffer(t *testing.T) {
	a, b := testenv.Database(t), testenv.Database(t)
	if a == b {
		t.Fatalf("two calls returned the same database %q", a)
	}
}

func TestTopicIsUniqueAndLegal(t *testing.T) {
	a, b := testenv.Topic(t), testenv.Topic(t)
	if a == b {
		t.Fatalf("two calls returned the same topic %q", a)
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			t.Fatalf("topic %q has %q, which Kafka does not allow", a, r)
		}
	}
}

// The round trip the relay and the projectors depend on: watermill-kafka's
// publisher (sarama SyncProducer) to a topic that does not exist yet, and its
// consumer-group subscriber reading from the oldest offset, with the message's
// UUID, payload, metadata and partition key intact. Against kfake by default;
// against a real Apache Kafka when KAFKA_BROKERS is set (as in CI).
func TestWatermillKafkaRoundTrip(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	for _, tc := range []struct {
		name    string
		version sarama.KafkaVersion
	}{
		// Kafka 4 dropped the oldest protocol versions (KIP-896); sarama >= 1.46
		// lifts each request to the broker's minimum, so even watermill's default
		// (1.0.0) works. The service sets V4_0_0_0: the broker family it runs on.
		{"watermill_default_config", kafka.DefaultSaramaSubscriberConfig().Version},
		{"sarama_V4_0_0_0", sarama.V4_0_0_0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, brokers, tc.version)
		})
	}
}

func roundTrip(t *testing.T, brokers []string, version sarama.KafkaVersion) {
	topic := testenv.Topic(t)
	logger := watermill.NewSlogLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})))
	marshaler := kafka.NewWithPartitioningMarshaler(func(_ string, msg *message.Message) (string, error) {
		return msg.Metadata.Get("event_id"), nil
	})

	pubCfg := kafka.DefaultSaramaSyncPublisherConfig()
	pubCfg.Version = version
	// The topic is auto-created by the first publish: a real broker has no
	// leader for it for a moment, longer than sarama's three tries on a
	// loaded machine.
	pubCfg.Metadata.Retry.Max, pubCfg.Metadata.Retry.Backoff = 60, 250*time.Millisecond
	pubCfg.Producer.Retry.Max, pubCfg.Producer.Retry.Backoff = 60, 250*time.Millisecond
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{
		Brokers:               brokers,
		Marshaler:             marshaler,
		OverwriteSaramaConfig: pubCfg,
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })

	first := message.NewMessage(watermill.NewUUID(), []byte(`{"participantId":"p-1","eventId":"e-1"}`))
	first.Metadata.Set("event_id", "e-1")
	first.Metadata.Set("event_type", "ParticipantRegistered")
	first.Metadata.Set("global_position", "1")
	// published before anyone subscribes, to a topic that does not exist yet
	if err := pub.Publish(topic, first); err != nil {
		t.Fatalf("publish to new topic %s: %v", topic, err)
	}

	subCfg := kafka.DefaultSaramaSubscriberConfig()
	subCfg.Version = version
	subCfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{
		Brokers:               brokers,
		Unmarshaler:           marshaler,
		OverwriteSaramaConfig: subCfg,
		ConsumerGroup:         topic + "-group",
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	messages, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	expect(ctx, t, messages, first)

	second := message.NewMessage(watermill.NewUUID(), []byte(`{"participantId":"p-2","eventId":"e-1"}`))
	second.Metadata.Set("event_id", "e-1")
	second.Metadata.Set("event_type", "StoreVisitRecorded")
	second.Metadata.Set("global_position", "2")
	if err := pub.Publish(topic, second); err != nil {
		t.Fatalf("publish to %s: %v", topic, err)
	}
	expect(ctx, t, messages, second)
}

func expect(ctx context.Context, t *testing.T, messages <-chan *message.Message, want *message.Message) {
	t.Helper()
	select {
	case got, ok := <-messages:
		if !ok {
			t.Fatal("subscription closed before the message arrived")
		}
		defer got.Ack()
		if got.UUID != want.UUID {
			t.Errorf("UUID = %s, want %s", got.UUID, want.UUID)
		}
		if string(got.Payload) != string(want.Payload) {
			t.Errorf("payload = %s, want %s", got.Payload, want.Payload)
		}
		for k, v := range want.Metadata {
			if got.Metadata.Get(k) != v {
				t.Errorf("metadata %s = %q, want %q", k, got.Metadata.Get(k), v)
			}
		}
		if pk, _ := kafka.MessagePartitionFromCtx(got.Context()); pk < 0 {
			t.Errorf("partition = %d", pk)
		}
	case <-ctx.Done():
		t.Fatal(errors.Join(errors.New("no message within the deadline"), ctx.Err()))
	}
}

// A port for a test's process is free and outside the range the kernel
// gives outgoing connections.
func TestFreePortIsBelowTheEphemeralRange(t *testing.T) {
	port := testenv.FreePort(t)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("port %d: %v", port, err)
	}
	_ = l.Close()
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Logf("no ephemeral range to compare with: %v", err)
		return
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil {
		t.Fatal(err)
	}
	if low > 20000 && (port >= low && port <= high) {
		t.Errorf("port %d is in the ephemeral range %d–%d", port, low, high)
	}
}
