package projections_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
)

// Every read model has its own consumer group and gets its own copy of each
// message, but the process decodes each message once (its envelope, then
// its JSON), not once per read model.
func TestRouterDecodesEachMessageOnceForEveryReadModel(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := newEnv(t)
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 2)
	e.seedCampaign(t, 60, seedStart, 4)
	events := e.allEvents(t)
	publish(t, newPublisher(t, brokers, logger), topic, events)

	var (
		mu      sync.Mutex
		applied = map[string]int{}
	)
	router, err := projections.NewRouter(projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: e.pool, Logger: logger,
		OnApplied: func(name string, n int) { mu.Lock(); applied[name] += n; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- router.Run(context.Background()) }()
	t.Cleanup(func() {
		_ = router.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	waitFor(t, 90*time.Second, "every read model applied every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, name := range projections.Names() {
			if applied[name] < len(events) {
				return false
			}
		}
		return true
	})
	if got, want := projections.RouterDecodes(router), int64(len(events)); got != want {
		t.Fatalf("%d messages decoded for %d read models, want %d: once each", got, len(projections.Names()), want)
	}
}
