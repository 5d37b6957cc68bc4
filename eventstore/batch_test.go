package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopevents/participation/eventstore"
)

func TestAppendBatchAnswersEachRequestAlone(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	if _, err := store.Append(ctx, "existing", eventstore.NoStream, anEvent(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AppendWith(ctx, eventstore.AppendRequest{Stream: "key-holder", Expected: eventstore.NoStream,
		Events: []eventstore.EventData{anEvent(0)}, Keys: []string{"held"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "closer", eventstore.NoStream, anEvent(0)); err != nil {
		t.Fatal(err)
	}
	one := []eventstore.EventData{anEvent(1)}
	tests := []struct {
		name    string
		req     eventstore.AppendRequest
		wantErr error
	}{
		{"new_stream_is_appended", eventstore.AppendRequest{Stream: "a", Expected: eventstore.NoStream, Events: one, Keys: []string{"ka"}}, nil},
		{"same_stream_twice_in_a_batch_loses", eventstore.AppendRequest{Stream: "a", Expected: eventstore.NoStream, Events: one}, eventstore.ErrWrongExpectedVersion},
		{"existing_stream_with_no_stream_conflicts", eventstore.AppendRequest{Stream: "existing", Expected: eventstore.NoStream, Events: one}, eventstore.ErrWrongExpectedVersion},
		{"exact_version_is_appended", eventstore.AppendRequest{Stream: "key-holder", Expected: eventstore.Exactly(1), Events: one}, nil},
		{"wrong_exact_version_conflicts", eventstore.AppendRequest{Stream: "closer", Expected: eventstore.Exactly(5), Events: one}, eventstore.ErrWrongExpectedVersion},
		{"key_asked_twice_in_a_batch_loses", eventstore.AppendRequest{Stream: "b", Expected: eventstore.NoStream, Events: one, Keys: []string{"ka"}}, eventstore.ErrDuplicateKey},
		{"key_held_before_loses", eventstore.AppendRequest{Stream: "c", Expected: eventstore.NoStream, Events: one, Keys: []string{"kc", "held"}}, eventstore.ErrDuplicateKey},
		{"closed_fence_refuses", eventstore.AppendRequest{Stream: "d", Expected: eventstore.NoStream, Events: one, Fence: "f", ClosedBy: "closer"}, eventstore.ErrClosed},
		{"open_fence_appends_two_events", eventstore.AppendRequest{Stream: "e", Expected: eventstore.NoStream,
			Events: []eventstore.EventData{anEvent(2), anEvent(3)}, Fence: "f", ClosedBy: "not-there"}, nil},
	}
	reqs := make([]eventstore.AppendRequest, len(tests))
	for i, tt := range tests {
		reqs[i] = tt.req
	}
	results, errs, err := store.AppendBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(errs[i], tt.wantErr) {
				t.Fatalf("err = %v, want %v", errs[i], tt.wantErr)
			}
			if tt.wantErr == nil {
				want := int64(len(tt.req.Events)) + max(int64(tt.req.Expected), 0)
				if got := results[i].NextExpectedVersion; got != want || len(results[i].Positions) != len(tt.req.Events) {
					t.Fatalf("result = %+v, want version %d and %d positions", results[i], want, len(tt.req.Events))
				}
			}
		})
	}
	// Nothing of a failed request stays behind: not its stream, not its keys.
	for _, stream := range []string{"b", "c", "d"} {
		if v, _ := store.StreamVersion(ctx, stream); v != 0 {
			t.Errorf("failed request left stream %s at version %d", stream, v)
		}
	}
	if s, _ := store.StreamByKey(ctx, "kc"); s != "" {
		t.Errorf("failed request left key kc on %q", s)
	}
	if v, _ := store.StreamVersion(ctx, "closer"); v != 1 {
		t.Errorf("stream closer at version %d, want 1", v)
	}
	if got, want := mustCount(t, store), 3+1+1+2; got != want {
		t.Errorf("events stored = %d, want %d", got, want)
	}
}

func TestConcurrentBatchesKeepOneRegistrationPerStream(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	const batches, perBatch, streams = 20, 25, 40

	var wins atomic.Int32
	var wg sync.WaitGroup
	for b := range batches {
		wg.Go(func() {
			reqs := make([]eventstore.AppendRequest, perBatch)
			for i := range reqs {
				n := (b*7 + i*3) % streams
				reqs[i] = eventstore.AppendRequest{Stream: fmt.Sprintf("phone-%d", n), Expected: eventstore.NoStream,
					Events: []eventstore.EventData{anEvent(n)}, Keys: []string{fmt.Sprintf("entry-%d-%d", b, i)}}
			}
			_, errs, err := store.AppendBatch(ctx, reqs)
			if err != nil {
				t.Error(err)
				return
			}
			for _, e := range errs {
				switch {
				case e == nil:
					wins.Add(1)
				case !errors.Is(e, eventstore.ErrWrongExpectedVersion):
					t.Error(e)
				}
			}
		})
	}
	wg.Wait()
	if got, want := int(wins.Load()), streams; got != want {
		t.Fatalf("registrations accepted = %d, want one per stream (%d)", got, want)
	}
	if got, want := mustCount(t, store), streams; got != want {
		t.Fatalf("events stored = %d, want %d", got, want)
	}
}

func mustCount(t *testing.T, store *eventstore.Store) int {
	t.Helper()
	var n int
	if err := eventstore.PoolOf(store).QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A conflict late in the one-round-trip path (a key already held, after the
// stream rows went in) must leave nothing behind: the careful path then
// appends the good request and refuses the other.
func TestAppendBatchConflictAfterStreamsLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	if _, err := store.AppendWith(ctx, eventstore.AppendRequest{Stream: "holder", Expected: eventstore.NoStream,
		Events: []eventstore.EventData{anEvent(0)}, Keys: []string{"taken"}}); err != nil {
		t.Fatal(err)
	}
	_, errs, err := store.AppendBatch(ctx, []eventstore.AppendRequest{
		{Stream: "good", Expected: eventstore.NoStream, Events: []eventstore.EventData{anEvent(1)}, Keys: []string{"free"}},
		{Stream: "bad", Expected: eventstore.NoStream, Events: []eventstore.EventData{anEvent(2)}, Keys: []string{"taken"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.Is(errs[1], eventstore.ErrDuplicateKey) {
		t.Fatalf("errs = %v, want [nil, ErrDuplicateKey]", errs)
	}
	if v, _ := store.StreamVersion(ctx, "bad"); v != 0 {
		t.Fatalf("the refused request left its stream at version %d", v)
	}
	if got, want := mustCount(t, store), 2; got != want {
		t.Fatalf("events = %d, want %d", got, want)
	}
}

func TestAppendBatchRefusesEveryRequestOfAClosedFence(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	if _, err := store.Append(ctx, "draw-x", eventstore.NoStream, anEvent(0)); err != nil {
		t.Fatal(err)
	}
	_, errs, err := store.AppendBatch(ctx, []eventstore.AppendRequest{
		{Stream: "r1", Expected: eventstore.NoStream, Events: []eventstore.EventData{anEvent(1)}, Fence: "campaign-x", ClosedBy: "draw-x"},
		{Stream: "r2", Expected: eventstore.NoStream, Events: []eventstore.EventData{anEvent(2)}, Fence: "campaign-y", ClosedBy: "draw-y"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], eventstore.ErrClosed) || errs[1] != nil {
		t.Fatalf("errs = %v, want [ErrClosed, nil]", errs)
	}
	if got, want := mustCount(t, store), 2; got != want {
		t.Fatalf("events = %d, want %d", got, want)
	}
}
