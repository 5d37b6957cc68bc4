package eventstore_test

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

// published is what an independent client (franz-go, not the project's
// subscriber) reads from the topic.
type published struct {
	key     string
	value   string
	headers map[string]string
}

// readTopic consumes the topic from the start until want distinct event ids
// arrived or the deadline passed, and returns every record (duplicates too).
func readTopic(t *testing.T, brokers []string, topic string, want int) []published {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var out []published
	distinct := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(distinct) < want && ctx.Err() == nil {
		fetches := client.PollFetches(ctx)
		fetches.EachRecord(func(r *kgo.Record) {
			p := published{key: string(r.Key), value: string(r.Value), headers: map[string]string{}}
			for _, h := range r.Headers {
				p.headers[h.Key] = string(h.Value)
			}
			out = append(out, p)
			distinct[p.headers["_watermill_message_uuid"]] = true
		})
	}
	if len(distinct) < want {
		t.Fatalf("topic %s carried %d distinct events, want %d", topic, len(distinct), want)
	}
	return out
}

func startRelay(t *testing.T, store *eventstore.Store, brokers []string, topic string) (*eventstore.Relay, context.CancelFunc) {
	t.Helper()
	relay, err := store.NewRelay(eventstore.RelayConfig{
		Topic:   topic,
		Standby: 50 * time.Millisecond,
		Connect: func() (message.Publisher, error) {
			return eventstore.NewKafkaPublisher(brokers, slog.New(slog.DiscardHandler))
		},
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = relay.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return relay, stop
}

// appendCampaignEvents appends n events spread over campaigns, returning them by id.
func appendCampaignEvents(t *testing.T, store *eventstore.Store, campaigns []string, n int) map[string]eventstore.EventData {
	t.Helper()
	out := map[string]eventstore.EventData{}
	for i := range n {
		e := anEvent(i)
		e.ID = uuid.New()
		e.PartitionKey = campaigns[i%len(campaigns)]
		e.Metadata.CorrelationID = "corr-" + strconv.Itoa(i)
		if _, err := store.Append(context.Background(), "s-"+e.ID.String(), eventstore.NoStream, e); err != nil {
			t.Fatal(err)
		}
		out[e.ID.String()] = e
	}
	return out
}

func TestRelayPublishesEveryEventWithTheContractFields(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	campaigns := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}

	before := appendCampaignEvents(t, store, campaigns, 30)
	relay, _ := startRelay(t, store, brokers, topic)
	after := appendCampaignEvents(t, store, campaigns, 30) // while it runs
	for k, v := range after {
		before[k] = v
	}
	records := readTopic(t, brokers, topic, len(before))

	lastPosition := map[string]int64{}
	for _, r := range records {
		id := r.headers["_watermill_message_uuid"]
		sent, ok := before[id]
		if !ok {
			t.Fatalf("unexpected message %s", id)
		}
		if got, want := r.key, sent.PartitionKey; got != want {
			t.Errorf("message %s key = %q, want the campaign id %q", id, got, want)
		}
		for _, h := range []string{eventstore.MetaEventType, eventstore.MetaStreamID, eventstore.MetaStreamVersion,
			eventstore.MetaPosition, eventstore.MetaSchemaVersion, eventstore.MetaCorrelationID} {
			if r.headers[h] == "" {
				t.Errorf("message %s lacks %s", id, h)
			}
		}
		if got, want := r.headers[eventstore.MetaCorrelationID], sent.Metadata.CorrelationID; got != want {
			t.Errorf("message %s correlation id = %q, want %q", id, got, want)
		}
		pos, _ := strconv.ParseInt(r.headers[eventstore.MetaPosition], 10, 64)
		if pos <= lastPosition[r.key] {
			t.Errorf("campaign %s: position %d after %d, out of order", r.key, pos, lastPosition[r.key])
		}
		lastPosition[r.key] = pos
	}
	if got, want := len(records), len(before); got != want {
		t.Errorf("records = %d, want %d (no duplicates without a failure)", got, want)
	}
	waitFor(t, func() bool {
		cp, _ := store.Checkpoint(context.Background(), "kafka-relay")
		head, _ := store.Head(context.Background())
		return cp == head && relay.Position() == head
	})
}

func TestOnlyOneRelayLeadsAndAnotherTakesOver(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	campaigns := []string{uuid.NewString(), uuid.NewString()}

	first, stopFirst := startRelay(t, store, brokers, topic)
	second, stopSecond := startRelay(t, store, brokers, topic)
	waitFor(t, func() bool { return first.Leader() || second.Leader() })
	if first.Leader() && second.Leader() {
		t.Fatal("both relays lead")
	}
	leader, stopLeader, standby := first, stopFirst, second
	if second.Leader() {
		leader, stopLeader, standby = second, stopSecond, first
	}
	events := appendCampaignEvents(t, store, campaigns, 20)
	waitFor(t, func() bool { head, _ := store.Head(context.Background()); return leader.Position() == head })
	if standby.Leader() || standby.Position() != 0 {
		t.Fatalf("the standby relay published (position %d)", standby.Position())
	}

	stopLeader()
	more := appendCampaignEvents(t, store, campaigns, 20)
	for k, v := range more {
		events[k] = v
	}
	waitFor(t, func() bool {
		head, _ := store.Head(context.Background())
		return standby.Leader() && standby.Position() == head
	})

	records := readTopic(t, brokers, topic, len(events))
	seen := map[string]int{}
	for _, r := range records {
		seen[r.headers["_watermill_message_uuid"]]++
	}
	for id := range events {
		if seen[id] != 1 {
			t.Errorf("event %s published %d times, want once", id, seen[id])
		}
	}
}

// Kafka goes away while events are appended, and comes back: the relay
// publishes everything once it can. Uses kfake on a fixed port with its
// data on disk, so the broker can stop and come back with its log.
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

	relay, _ := startRelay(t, store, brokers, topic)
	events := appendCampaignEvents(t, store, campaigns, 10)
	waitFor(t, func() bool { head, _ := store.Head(context.Background()); return relay.Position() == head })

	broker.Close()
	during := appendCampaignEvents(t, store, campaigns, 15) // appends never wait for Kafka
	published := relay.Position()
	head, _ := store.Head(context.Background())
	if published >= head {
		t.Fatalf("relay position %d reached head %d with the broker down", published, head)
	}

	broker = startBroker()
	defer broker.Close()
	waitFor(t, func() bool { return relay.Position() == head })
	for k, v := range during {
		events[k] = v
	}
	records := readTopic(t, brokers, topic, len(events))
	seen := map[string]bool{}
	for _, r := range records {
		seen[r.headers["_watermill_message_uuid"]] = true
	}
	for id := range events {
		if !seen[id] {
			t.Errorf("event %s lost across the outage", id)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
