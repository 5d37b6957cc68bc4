package projections_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/projections"
)

func newPublisher(t *testing.T, brokers []string, logger *slog.Logger) *wmkafka.Publisher {
	t.Helper()
	cfg := wmkafka.DefaultSaramaSyncPublisherConfig()
	cfg.Version = sarama.V4_0_0_0
	// Patient: a topic just created (or auto-created by the first publish)
	// has no leader for a moment on a real broker, and sarama's default
	// three tries are soon spent on a loaded machine.
	cfg.Metadata.Retry.Max, cfg.Metadata.Retry.Backoff = 60, 250*time.Millisecond
	cfg.Producer.Retry.Max, cfg.Producer.Retry.Backoff = 60, 250*time.Millisecond
	pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{
		Brokers: brokers,
		Marshaler: wmkafka.NewWithPartitioningMarshaler(func(_ string, msg *message.Message) (string, error) {
			return msg.Metadata.Get(kafka.MetaPartitionKey), nil
		}),
		OverwriteSaramaConfig: cfg,
	}, watermill.NewSlogLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return pub
}

func publish(t *testing.T, pub *wmkafka.Publisher, topic string, events []eventstore.RecordedEvent) {
	t.Helper()
	for _, e := range events {
		if err := pub.Publish(topic, kafka.ToMessage(e)); err != nil {
			t.Fatalf("publish %d: %v", e.Position, err)
		}
	}
}

// runningRouter is a projections router running in the background that
// counts the messages its handlers finished.
type runningRouter struct {
	router  *projections.Router
	handled *atomic.Int64
	done    chan error
}

func startRouter(t *testing.T, cfg projections.RouterConfig) runningRouter {
	t.Helper()
	handled := new(atomic.Int64)
	cfg.OnApplied = func(_ string, n int) { handled.Add(int64(n)) }
	router, err := projections.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := runningRouter{router: router, handled: handled, done: make(chan error, 1)}
	go func() { r.done <- router.Run(context.Background()) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r runningRouter) stop(t *testing.T) {
	t.Helper()
	if r.router.IsClosed() {
		return
	}
	if err := r.router.Close(); err != nil {
		t.Errorf("close router: %v", err)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("router run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("router did not stop")
	}
}

// Through Kafka the read models come out exactly as applying the store's
// events directly gives them, also when everything is delivered twice and
// the router restarts in the middle.
func TestRouterProjectsFromKafkaExactlyOnce(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := newEnv(t)
	ctx := context.Background()
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 3)
	pub := newPublisher(t, brokers, logger)

	campaigns := []*campaignData{
		e.seedCampaign(t, 80, seedStart, 5),
		e.seedCampaign(t, 50, seedStart.Add(3*time.Hour), 2),
		e.seedCampaign(t, 30, seedStart.Add(30*time.Hour), 0),
	}
	first := e.allEvents(t)
	publish(t, pub, topic, first)
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	cfg := projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: e.pool, Logger: logger}
	router := startRouter(t, cfg)

	caughtUp := func(c *campaignData, drawn bool) bool {
		page, err := q.Participants(ctx, c.id, projections.ParticipantFilter{Page: 1, Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		a, err := q.Analytics(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != int64(len(c.regs)) || a.TotalParticipants != int64(len(c.regs)) ||
			a.StoreVisits != int64(len(c.visited)) {
			return false
		}
		if !drawn {
			return true
		}
		winners, err := q.Winners(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		logs, err := q.DrawLogs(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		won, err := q.Participants(ctx, c.id, projections.ParticipantFilter{Winner: ptr(true), Page: 1, Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		// The campaigns model is a consumer group of its own too, and the
		// comparison below covers its table.
		var drawnRow bool
		var participants int64
		if err := e.pool.QueryRow(ctx, `SELECT drawn, participants FROM campaigns WHERE event_id = $1`, c.id).
			Scan(&drawnRow, &participants); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		n := int64(len(c.draw.Winners))
		return len(winners) == int(n) && len(logs) == 1 && won.TotalCount == n && a.Winners == n &&
			drawnRow && participants == int64(len(c.regs))
	}
	waitFor(t, 90*time.Second, "the first delivery is projected", func() bool {
		for _, c := range campaigns {
			if !caughtUp(c, false) {
				return false
			}
		}
		return true
	})

	// Every event again, then the draws, which are each campaign's last
	// event: once a draw is projected, everything before it on its
	// partition has been handled.
	for i, c := range campaigns {
		e.drawWinners(t, c, i, len(c.regs)-1, len(c.regs)/2)
	}
	all := e.allEvents(t)
	before := router.handled.Load()
	publish(t, pub, topic, all)
	waitFor(t, 60*time.Second, "the router handles part of the second delivery", func() bool {
		return router.handled.Load() >= before+40
	})
	router.stop(t)
	restarted := startRouter(t, cfg)
	waitFor(t, 90*time.Second, "the draws are projected after the restart", func() bool {
		for _, c := range campaigns {
			if !caughtUp(c, true) {
				return false
			}
		}
		return true
	})
	if restarted.handled.Load() == 0 {
		t.Error("the restarted router handled nothing: the restart was not mid-stream")
	}
	t.Logf("handled: %d by the first router, %d after the restart, of %d published (×4 handlers)",
		router.handled.Load(), restarted.handled.Load(), len(first)+len(all))

	// The same events applied directly in another database give the same read models.
	ref := newEnv(t)
	for _, ev := range all {
		if _, err := ref.store.Append(ctx, ev.StreamID, eventstore.Any, eventstore.EventData{
			ID: ev.ID, PartitionKey: ev.PartitionKey, Type: ev.Type, SchemaVersion: ev.SchemaVersion,
			Data: ev.Data, Metadata: ev.Metadata,
		}); err != nil {
			t.Fatal(err)
		}
	}
	applyAll(t, projections.NewProjectors(ref.pool, nil), all)
	if diff := cmp.Diff(snapshot(t, ref.pool), snapshot(t, e.pool)); diff != "" {
		t.Errorf("read models through Kafka differ from applying the store (-direct +kafka):\n%s", diff)
	}

	restarted.stop(t)
	status, err := projections.Status(ctx, e.pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if s.Lag != 0 {
			t.Errorf("%s: lag %d after the router stopped (position %d, head %d)", s.Name, s.Lag, s.Position, s.Head)
		}
	}
}

// Messages that no projection can apply are acked, and the ones behind them
// on the partition are still projected.
func TestRouterSkipsPoisonMessages(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	e := newEnv(t)
	ctx := context.Background()
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 3)
	pub := newPublisher(t, brokers, logger)
	c := e.seedCampaign(t, 3, seedStart, 0)
	events := e.allEvents(t)

	key := c.id.String()
	noMetadata := message.NewMessage(uuid.NewString(), []byte(`{}`))
	noMetadata.Metadata.Set(kafka.MetaPartitionKey, key)
	unknown := kafka.ToMessage(eventstore.RecordedEvent{ID: uuid.New(), Type: "FutureEvent", Position: 1,
		PartitionKey: key, SchemaVersion: 1, Data: []byte(`{}`)})
	garbage := kafka.ToMessage(eventstore.RecordedEvent{ID: uuid.New(), Type: "ParticipantRegistered",
		Position: events[1].Position, PartitionKey: key, SchemaVersion: 1, Data: []byte(`not json`)})
	// decodes, but PostgreSQL refuses its entry path (a NUL) for good
	refused := kafka.ToMessage(eventstore.RecordedEvent{ID: uuid.New(), Type: "ParticipantRegistered",
		Position: 1, PartitionKey: key, SchemaVersion: 1, Data: []byte(`{"participantId":"` + uuid.NewString() +
			`","eventId":"` + key + `","entryNumber":"X1","entryPath":"BAD\u0000PATH","privacyConsent":true}`)})
	for _, m := range []*message.Message{noMetadata, unknown, garbage, refused} {
		if err := pub.Publish(topic, m); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, pub, topic, events)
	startRouter(t, projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: e.pool, Logger: logger})
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	waitFor(t, 90*time.Second, "the events behind the poison are projected", func() bool {
		a, err := q.Analytics(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		page, err := q.Participants(ctx, c.id, projections.ParticipantFilter{Page: 1, Size: 5})
		if err != nil {
			t.Fatal(err)
		}
		return a.TotalParticipants == 3 && page.TotalCount == 3
	})
}

func TestNewRouterNeedsBrokersAndPool(t *testing.T) {
	if _, err := projections.NewRouter(projections.RouterConfig{}); err == nil {
		t.Error("no brokers: no error")
	}
	e := newEnv(t)
	if _, err := projections.NewRouter(projections.RouterConfig{Brokers: []string{"127.0.0.1:1"}}); err == nil {
		t.Error("no pool: no error")
	}
	if _, err := projections.NewRouter(projections.RouterConfig{Brokers: []string{"127.0.0.1:1"}, Pool: e.pool,
		Projections: []string{"nope"}}); err == nil {
		t.Error("unknown projection: no error")
	}
}
