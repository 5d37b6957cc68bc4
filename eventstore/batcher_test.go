package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

func newRequest(stream string) eventstore.AppendRequest {
	return eventstore.AppendRequest{Stream: stream, Expected: eventstore.NoStream, Events: []eventstore.EventData{anEvent(1)}}
}

// eventually polls cond until it holds, failing after a generous bound (no
// timing is asserted: the bound only keeps a broken test from hanging).
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func streamLength(t *testing.T, store *eventstore.Store, stream string) int {
	t.Helper()
	events, err := store.ReadStream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

// A caller that gave up while its request waited behind a busy batch is
// answered with its context's error, and its request is never written.
func TestBatcherDropsARequestWhoseCallerGaveUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t, 8)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool)
	batcher := store.NewBatcher(eventstore.BatcherConfig{Workers: 1})
	t.Cleanup(batcher.Close)

	// Hold the only worker: its batch waits on a table lock.
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback(ctx) }()
	if _, err := lock.Exec(ctx, "LOCK TABLE events IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { _, err := batcher.Append(ctx, newRequest("first")); first <- err }()
	eventually(t, func() bool {
		var waiting int
		_ = pool.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE NOT granted").Scan(&waiting)
		return waiting > 0
	})

	gaveUp, cancel := context.WithCancel(ctx)
	abandoned := make(chan error, 1)
	go func() { _, err := batcher.Append(gaveUp, newRequest("gave-up")); abandoned <- err }()
	eventually(t, func() bool { return batcher.Queued() == 1 })
	cancel()
	if err := <-abandoned; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned request: err = %v, want context.Canceled", err)
	}
	later := make(chan error, 1)
	go func() { _, err := batcher.Append(ctx, newRequest("later")); later <- err }()
	eventually(t, func() bool { return batcher.Queued() == 2 })

	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan error{"first": first, "later": later} {
		if err := <-ch; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if n := streamLength(t, store, "gave-up"); n != 0 {
		t.Fatalf("the abandoned request was written: %d events", n)
	}
	for _, s := range []string{"first", "later"} {
		if n := streamLength(t, store, s); n != 1 {
			t.Fatalf("stream %s has %d events, want 1", s, n)
		}
	}
}

// Under concurrency every answer tells the truth: a success is stored, a
// caller told its context ended finds nothing stored.
func TestBatcherAnswersMatchWhatWasStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t, 16)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool)
	batcher := store.NewBatcher(eventstore.BatcherConfig{Workers: 2, MaxBatch: 16})
	t.Cleanup(batcher.Close)

	const callers = 200
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			cctx, cancel := context.WithCancel(ctx)
			if i%2 == 0 {
				cancel() // some give up at once, others while queued or written
			} else {
				go func() { time.Sleep(time.Duration(i%7) * time.Millisecond); cancel() }()
			}
			_, errs[i] = batcher.Append(cctx, newRequest(fmt.Sprintf("s-%d", i)))
			cancel()
		})
	}
	wg.Wait()
	var stored, dropped int
	for i, err := range errs {
		n := streamLength(t, store, fmt.Sprintf("s-%d", i))
		switch {
		case err == nil && n == 1:
			stored++
		case errors.Is(err, context.Canceled) && n == 0:
			dropped++
		default:
			t.Errorf("caller %d: err = %v but %d events stored", i, err, n)
		}
	}
	if dropped == 0 {
		t.Error("no caller gave up: the test exercised nothing")
	}
	t.Logf("stored %d, dropped %d", stored, dropped)
}
