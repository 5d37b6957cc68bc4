package relay_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/relay"
)

const smallTopicBytes = 64 << 10

// bigEvent is an event of campaign key larger than smallTopicBytes.
func bigEvent(key string) eventstore.EventData {
	e := anEvent(0)
	e.ID, e.PartitionKey, e.Type = uuid.New(), key, "Big"
	blob := make([]byte, 2*smallTopicBytes)
	_, _ = rand.Read(blob) // incompressible: compression must not sneak it under the limit
	e.Data, _ = json.Marshal(map[string]string{"blob": base64.StdEncoding.EncodeToString(blob)})
	return e
}

func small(key string, n int) eventstore.EventData {
	e := anEvent(n)
	e.ID, e.PartitionKey = uuid.New(), key
	return e
}

// An event Kafka refuses for good is parked with its campaign's later events
// held behind it; the other campaign flows; a retry that Kafka refuses
// again keeps the queue; once the topic takes the event, a retry sends the
// queue in order and the campaign flows again.
func TestARefusedEventIsParkedAndItsCampaignWaitsBehindIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// connect returns the relay's sender for a topic that takes at most
		// smallTopicBytes per message.
		connect func(t *testing.T, brokers []string, topic string) func(context.Context) (relay.Sender, error)
	}{
		{"refused_by_the_producer_size_check", func(t *testing.T, brokers []string, topic string) func(context.Context) (relay.Sender, error) {
			return func(ctx context.Context) (relay.Sender, error) {
				pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: brokers, MaxMessageBytes: smallTopicBytes})
				if err != nil {
					return nil, err
				}
				if _, err := pub.EnsureTopic(ctx, topic, 1); err != nil {
					pub.Close()
					return nil, err
				}
				return pub, nil
			}
		}},
		{"refused_by_the_broker", func(t *testing.T, brokers []string, topic string) func(context.Context) (relay.Sender, error) {
			admin, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: brokers, MaxMessageBytes: smallTopicBytes})
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			if _, err := admin.EnsureTopic(context.Background(), topic, 1); err != nil {
				t.Fatal(err)
			}
			// A publisher that does not know the topic's limit: the broker refuses.
			return func(context.Context) (relay.Sender, error) {
				return kafka.NewPublisher(kafka.PublisherConfig{Brokers: brokers})
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newStore(t)
			brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
			x, y := "campaign-x-"+uuid.NewString(), "campaign-y-"+uuid.NewString()
			// One partition: the other campaign shares the refused event's partition and still flows.
			registry := prometheus.NewRegistry()
			r, stop := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers, Registerer: registry,
				Connect: tc.connect(t, brokers, topic)})

			big := bigEvent(x)
			sequence := []eventstore.EventData{small(x, 1), small(y, 1), big, small(x, 2), small(y, 2), small(y, 3), small(x, 3)}
			for _, e := range sequence {
				appendOne(t, store, e)
			}
			waitFor(t, "the relay settles everything", caughtUp(t, store, r))
			later := small(x, 4) // appended while its campaign is blocked
			appendOne(t, store, later)
			waitFor(t, "the relay settles the late event", caughtUp(t, store, r))
			appendOne(t, store, small(y, 4))
			waitFor(t, "the relay settles the other campaign", caughtUp(t, store, r))

			records := readTopic(t, brokers, topic, 5)
			got := map[string]bool{}
			for _, rec := range records {
				got[rec.id()] = true
			}
			for _, e := range sequence[3:] {
				if e.PartitionKey == x && got[e.ID.String()] {
					t.Errorf("event %s of the blocked campaign went out before the refused one", e.ID)
				}
			}
			parked := listParked(t, store)
			if len(parked) != 4 || parked[0].EventID != big.ID || !parked[0].Refused {
				t.Fatalf("parked = %+v, want the refused big event, then three held events of its campaign", parked)
			}
			if !strings.Contains(parked[0].Error, "MESSAGE_TOO_LARGE") {
				t.Errorf("parked error = %q, want Kafka's MESSAGE_TOO_LARGE", parked[0].Error)
			}
			for _, p := range parked[1:] {
				if p.Refused || p.Campaign != x {
					t.Errorf("held row %+v, want a held event of campaign %s", p, x)
				}
			}
			if got := metricValue(t, registry, "participation_relay_refused_events_total"); got != 1 {
				t.Errorf("refused events metric = %v, want 1", got)
			}
			if got := metricValue(t, registry, "participation_relay_parked_events"); got != 4 {
				t.Errorf("parked events metric = %v, want 4", got)
			}

			// A retry the topic still refuses leaves the queue as it was.
			if _, err := store.RequestRetry(context.Background(), []uuid.UUID{big.ID}); err != nil {
				t.Fatal(err)
			}
			// The relay counts the refusal just after it clears the request, so
			// the metric is waited for with the row.
			waitFor(t, "the retry is answered and counted", func() bool {
				p := listParked(t, store)
				return len(p) == 4 && !p[0].RetryRequested &&
					metricValue(t, registry, "participation_relay_refused_events_total") >= 2
			})
			if got := metricValue(t, registry, "participation_relay_refused_events_total"); got != 2 {
				t.Errorf("refused events metric = %v after a refused retry, want 2", got)
			}
			if _, err := store.RequestRetry(context.Background(), []uuid.UUID{parked[1].EventID}); err == nil {
				t.Error("a retry of a held event succeeded, want eventstore.ErrNotRefused")
			}

			// The operator raises the limit (a relay with the default size
			// raises the topic's max.message.bytes) and retries everything.
			stop()
			r2, _ := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers})
			waitFor(t, "the new relay leads", r2.Leader)
			if _, err := store.RequestRetry(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the queue goes out", func() bool { return len(listParked(t, store)) == 0 })
			afterRetry := small(x, 5)
			appendOne(t, store, afterRetry)
			waitFor(t, "the campaign flows again", caughtUp(t, store, r2))

			wantX := []uuid.UUID{sequence[0].ID, big.ID, sequence[3].ID, sequence[6].ID, later.ID, afterRetry.ID}
			var gotX []string
			for _, rec := range readTopic(t, brokers, topic, 10) {
				if rec.key == x {
					gotX = append(gotX, rec.id())
				}
			}
			if len(gotX) != len(wantX) {
				t.Fatalf("campaign x on the topic: %d events %v, want %d", len(gotX), gotX, len(wantX))
			}
			for i, id := range wantX {
				if gotX[i] != id.String() {
					t.Errorf("campaign x event %d = %s, want %s (order kept across the parking)", i, gotX[i], id)
				}
			}
		})
	}
}

func listParked(t *testing.T, store *eventstore.Store) []eventstore.ParkedEvent {
	t.Helper()
	p, err := store.ParkedEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func metricValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return m.Gauge.GetValue()
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
