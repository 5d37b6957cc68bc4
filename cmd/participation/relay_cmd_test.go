package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/relay"
)

// `relay parked` lists a refused event and the one held behind it; `relay
// retry --all` waits for the leading relay, which sends both once the topic
// takes them, and reports it.
func TestRelayParkedAndRetry(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t, 10)
	ctx := context.Background()
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	const small = 64 << 10
	campaign := uuid.NewString()
	blob := make([]byte, 2*small)
	_, _ = rand.Read(blob)
	bigData, _ := json.Marshal(map[string]string{"blob": base64.StdEncoding.EncodeToString(blob)})
	big := eventstore.EventData{ID: uuid.New(), Type: "Big", SchemaVersion: 1, PartitionKey: campaign, Data: bigData}
	after := eventstore.EventData{ID: uuid.New(), Type: "Small", SchemaVersion: 1, PartitionKey: campaign, Data: []byte(`{}`)}
	for _, e := range []eventstore.EventData{big, after} {
		if _, err := store.Append(ctx, "s-"+e.ID.String(), eventstore.NoStream, e); err != nil {
			t.Fatal(err)
		}
	}

	// A relay whose producer takes at most 64 KiB parks the big event.
	stopLimited := runRelay(t, store, relay.Config{Topic: topic, Brokers: brokers,
		Connect: func(ctx context.Context) (relay.Sender, error) {
			pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: brokers, MaxMessageBytes: small})
			if err != nil {
				return nil, err
			}
			if _, err := pub.EnsureTopic(ctx, topic, 1); err != nil {
				pub.Close()
				return nil, err
			}
			return pub, nil
		}})
	var parked []eventstore.ParkedEvent
	for deadline := time.Now().Add(60 * time.Second); len(parked) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("parked = %+v, want the big event and the one behind it", parked)
		}
		var err error
		if parked, err = store.ParkedEvents(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	printParked(&out, parked)
	for _, want := range []string{big.ID.String(), "refused", "MESSAGE_TOO_LARGE", "held behind " + big.ID.String()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("relay parked printed\n%s\nwant it to contain %q", out.String(), want)
		}
	}

	// A relay with the default size (it raises the topic's limit) sends them on retry.
	stopLimited()
	runRelay(t, store, relay.Config{Topic: topic, Brokers: brokers})
	out.Reset()
	if err := retryParked(ctx, &out, store, nil, time.Minute); err != nil {
		t.Fatalf("retry: %v\n%s", err, out.String())
	}
	if got, want := strings.TrimSpace(out.String()), "1 sent, 0 refused again, 0 held events still parked"; got != want {
		t.Errorf("relay retry printed %q, want %q", got, want)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left, err := store.ParkedEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still parked after the retry: %+v", left)
		}
	}
}

func runRelay(t *testing.T, store *eventstore.Store, cfg relay.Config) (stop func()) {
	t.Helper()
	cfg.Standby, cfg.RetryPoll = 50*time.Millisecond, 50*time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	r, err := relay.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}
