package relay_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/relay"
)

func newStore(t testing.TB) *eventstore.Store {
	t.Helper()
	store, _ := newStoreAndPool(t)
	return store
}

// newStoreAndPool also returns the store's pool, for a test's own SQL.
func newStoreAndPool(t testing.TB) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := testenv.Pool(t, 20)
	if err := eventstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool), pool
}

func anEvent(n int) eventstore.EventData {
	data, _ := json.Marshal(map[string]any{"n": n, "text": "some data"})
	return eventstore.EventData{
		Type:          "Tested",
		SchemaVersion: 1,
		PartitionKey:  "p",
		Data:          data,
		Metadata:      eventstore.Metadata{CorrelationID: "corr", Actor: "test"},
	}
}

// appendEvents appends n events spread over campaigns, one stream each,
// returning them by id in append order.
func appendEvents(t *testing.T, store *eventstore.Store, campaigns []string, n int) ([]string, map[string]eventstore.EventData) {
	t.Helper()
	out := map[string]eventstore.EventData{}
	var order []string
	for i := range n {
		e := anEvent(i)
		e.ID = uuid.New()
		e.PartitionKey = campaigns[i%len(campaigns)]
		e.Metadata.CorrelationID = "corr-" + strconv.Itoa(i)
		appendOne(t, store, e)
		out[e.ID.String()] = e
		order = append(order, e.ID.String())
	}
	return order, out
}

func appendOne(t *testing.T, store *eventstore.Store, e eventstore.EventData) {
	t.Helper()
	if e.ID == uuid.Nil {
		e.ID = uuid.New()
	}
	if _, err := store.Append(context.Background(), "s-"+e.ID.String(), eventstore.NoStream, e); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 60s", what)
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	var w io.Writer = t.Output()
	if os.Getenv("RELAY_TEST_QUIET") != "" {
		w = io.Discard
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func startRelay(t *testing.T, store *eventstore.Store, cfg relay.Config) (*relay.Relay, context.CancelFunc) {
	t.Helper()
	cfg.Standby = 50 * time.Millisecond
	cfg.RetryPoll = 50 * time.Millisecond
	cfg.MaxBackoff = 500 * time.Millisecond
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 3
	}
	r, err := relay.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		if err := r.Run(ctx); err != context.Canceled {
			t.Errorf("relay.Run = %v, want context.Canceled", err)
		}
		close(done)
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return r, stop
}

func caughtUp(t *testing.T, store *eventstore.Store, r *relay.Relay) func() bool {
	return func() bool {
		head, err := store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r.Position() == head
	}
}

// published is what an independent client (franz-go, not the project's
// subscriber) reads from the topic.
type published struct {
	key       string
	value     []byte
	partition int32
	headers   map[string]string
}

func (p published) id() string { return p.headers[kafka.UUIDHeader] }

// readTopic consumes the topic from the start until want distinct event ids
// arrived, and returns every record (duplicates too).
func readTopic(t *testing.T, brokers []string, topic string, want int) []published {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(2*kafka.MaxMessageBytes))
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
			p := published{key: string(r.Key), value: r.Value, partition: r.Partition, headers: map[string]string{}}
			for _, h := range r.Headers {
				p.headers[h.Key] = string(h.Value)
			}
			out = append(out, p)
			distinct[p.id()] = true
		})
	}
	if len(distinct) < want {
		t.Fatalf("topic %s carried %d distinct events, want %d", topic, len(distinct), want)
	}
	return out
}

// freePort is a port for a process the test starts (testenv.FreePort: off
// the ephemeral range, where outgoing connections could take it).
func freePort(t *testing.T) int {
	t.Helper()
	return testenv.FreePort(t)
}

// realBrokers is KAFKA_BROKERS, or nil when the tests use kfake.
func realBrokers() []string {
	var out []string
	for b := range strings.SplitSeq(os.Getenv("KAFKA_BROKERS"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// laterBroker is a broker address where nothing answers until up is
// called: then either kfake starts on that port or, with KAFKA_BROKERS, a
// TCP forwarder to the real broker opens there.
type laterBroker struct {
	addr string
	up   func()
}

func brokerComingLater(t *testing.T) laterBroker {
	t.Helper()
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	real := realBrokers()
	if len(real) == 0 {
		return laterBroker{addr: addr, up: func() {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
		}}
	}
	return laterBroker{addr: addr, up: func() {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go forward(l, real[0])
	}}
}

// forward copies every connection to target. The real broker advertises its
// own address, so after the first metadata answer clients go there directly.
func forward(l net.Listener, target string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, c) }()
			_, _ = io.Copy(c, up)
		}()
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
