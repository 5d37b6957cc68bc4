package relay_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/relay"
)

func TestRelayPublishesEveryEventWithTheContractFields(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	campaigns := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}

	_, sent := appendEvents(t, store, campaigns, 30)
	r, _ := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers, Partitions: 5})
	_, more := appendEvents(t, store, campaigns, 30) // while it runs
	for k, v := range more {
		sent[k] = v
	}
	records := readTopic(t, brokers, topic, len(sent))

	lastPosition := map[string]int64{}
	partitionOf := map[string]int32{}
	for _, rec := range records {
		id := rec.id()
		e, ok := sent[id]
		if !ok {
			t.Fatalf("unexpected message %s", id)
		}
		if got, want := rec.key, e.PartitionKey; got != want {
			t.Errorf("message %s key = %q, want the campaign id %q", id, got, want)
		}
		for _, h := range []string{kafka.MetaEventType, kafka.MetaStreamID, kafka.MetaStreamVersion,
			kafka.MetaPosition, kafka.MetaSchemaVersion, kafka.MetaCorrelationID} {
			if rec.headers[h] == "" {
				t.Errorf("message %s lacks %s", id, h)
			}
		}
		if got, want := rec.headers[kafka.MetaCorrelationID], e.Metadata.CorrelationID; got != want {
			t.Errorf("message %s correlation id = %q, want %q", id, got, want)
		}
		if p, ok := partitionOf[rec.key]; ok && p != rec.partition {
			t.Errorf("campaign %s on partitions %d and %d", rec.key, p, rec.partition)
		}
		partitionOf[rec.key] = rec.partition
		pos, _ := strconv.ParseInt(rec.headers[kafka.MetaPosition], 10, 64)
		if pos <= lastPosition[rec.key] {
			t.Errorf("campaign %s: position %d after %d, out of order", rec.key, pos, lastPosition[rec.key])
		}
		lastPosition[rec.key] = pos
	}
	if got, want := len(records), len(sent); got != want {
		t.Errorf("records = %d, want %d (no duplicates without a failure)", got, want)
	}
	waitFor(t, "checkpoint at head", func() bool {
		cp, _ := store.Checkpoint(context.Background(), "kafka-relay")
		head, _ := store.Head(context.Background())
		return cp == head && r.Position() == head
	})
}

func TestTheRelayCreatesTheTopicWithItsPartitionsAndMessageSize(t *testing.T) {
	t.Parallel()
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx := context.Background()
	info, err := pub.EnsureTopic(ctx, topic, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Created || info.Partitions != 7 || info.MaxMessageBytes != kafka.MaxMessageBytes {
		t.Fatalf("first EnsureTopic = %+v, want created with 7 partitions and max %d", info, kafka.MaxMessageBytes)
	}
	again, err := pub.EnsureTopic(ctx, topic, 12)
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Partitions != 7 {
		t.Fatalf("second EnsureTopic = %+v, want the existing topic with its 7 partitions", again)
	}
}

func TestOnlyOneRelayLeadsAndAnotherTakesOver(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	campaigns := []string{uuid.NewString(), uuid.NewString()}
	cfg := relay.Config{Topic: topic, Brokers: brokers}

	first, stopFirst := startRelay(t, store, cfg)
	second, stopSecond := startRelay(t, store, cfg)
	waitFor(t, "a leader", func() bool { return first.Leader() || second.Leader() })
	if first.Leader() && second.Leader() {
		t.Fatal("both relays lead")
	}
	leader, stopLeader, standby := first, stopFirst, second
	if second.Leader() {
		leader, stopLeader, standby = second, stopSecond, first
	}
	_, events := appendEvents(t, store, campaigns, 20)
	waitFor(t, "the leader publishes", caughtUp(t, store, leader))
	if standby.Leader() || standby.Position() != 0 {
		t.Fatalf("the standby relay published (position %d)", standby.Position())
	}

	stopLeader()
	_, more := appendEvents(t, store, campaigns, 20)
	for k, v := range more {
		events[k] = v
	}
	waitFor(t, "the standby takes over", func() bool { return standby.Leader() && caughtUp(t, store, standby)() })

	seen := map[string]int{}
	for _, rec := range readTopic(t, brokers, topic, len(events)) {
		seen[rec.id()]++
	}
	for id := range events {
		if seen[id] != 1 {
			t.Errorf("event %s published %d times, want once", id, seen[id])
		}
	}
}

// The relay starts while no broker answers at its address, the store takes
// events meanwhile, and they all go out once the broker is there. Against
// kfake the broker starts later on that port; with KAFKA_BROKERS a
// forwarder to the real broker opens there later.
func TestTheRelayStartsBeforeTheBrokerAndPublishesOnceItIsUp(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	later, topic := brokerComingLater(t), testenv.Topic(t)
	campaigns := []string{uuid.NewString(), uuid.NewString()}

	r, _ := startRelay(t, store, relay.Config{Topic: topic, Brokers: []string{later.addr}})
	_, events := appendEvents(t, store, campaigns, 10)
	waitFor(t, "the relay leads", r.Leader)
	time.Sleep(300 * time.Millisecond) // a few failed connects: nothing may panic or give up
	if r.Position() != 0 || r.Connected() {
		t.Fatalf("position %d, connected %v with no broker", r.Position(), r.Connected())
	}
	later.up()
	waitFor(t, "the relay catches up", caughtUp(t, store, r))
	seen := map[string]bool{}
	for _, rec := range readTopic(t, []string{later.addr}, topic, len(events)) {
		seen[rec.id()] = true
	}
	for id := range events {
		if !seen[id] {
			t.Errorf("event %s never published", id)
		}
	}
}

// Kafka goes away while events are appended, and comes back: the relay
// publishes everything once it can. kfake on a fixed port with its data on
// disk, so the broker can stop and come back with its log.
func TestRelayCarriesOnAfterAKafkaOutage(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	port, dir, topic := freePort(t), t.TempDir(), testenv.Topic(t)
	startBroker := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(),
			kfake.DefaultNumPartitions(3), kfake.DataDir(dir), kfake.SyncWrites())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	broker := startBroker()
	brokers := broker.ListenAddrs()
	campaigns := []string{uuid.NewString(), uuid.NewString()}

	r, _ := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers})
	_, events := appendEvents(t, store, campaigns, 10)
	waitFor(t, "published before the outage", caughtUp(t, store, r))

	broker.Close()
	_, during := appendEvents(t, store, campaigns, 15) // appends never wait for Kafka
	head, _ := store.Head(context.Background())
	if published := r.Position(); published >= head {
		t.Fatalf("relay position %d reached head %d with the broker down", published, head)
	}

	broker = startBroker()
	defer broker.Close()
	waitFor(t, "published after the outage", func() bool { return r.Position() == head })
	for k, v := range during {
		events[k] = v
	}
	seen := map[string]bool{}
	for _, rec := range readTopic(t, brokers, topic, len(events)) {
		seen[rec.id()] = true
	}
	for id := range events {
		if !seen[id] {
			t.Errorf("event %s lost across the outage", id)
		}
	}
}
