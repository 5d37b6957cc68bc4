package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

// newStore gives the test a migrated store in a database of its own.
func newStore(t testing.TB) *eventstore.Store {
	t.Helper()
	pool := testenv.Pool(t, 40)
	if err := eventstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool)
}

func anEvent(n int) eventstore.EventData {
	data, _ := json.Marshal(map[string]any{"n": n, "name": "김철수", "phone": "010-1234-5678"})
	return eventstore.EventData{
		Type:          "Tested",
		SchemaVersion: 1,
		PartitionKey:  "p",
		Data:          data,
		Metadata:      eventstore.Metadata{CorrelationID: "corr", Actor: "test"},
	}
}

func TestAppendNoStreamRace(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()

	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			_, err := store.Append(ctx, "race-new", eventstore.NoStream, anEvent(i))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, eventstore.ErrWrongExpectedVersion):
				t.Errorf("append %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got, want := wins.Load(), int32(1); got != want {
		t.Fatalf("appends that won = %d, want %d", got, want)
	}
	events, err := store.ReadStream(ctx, "race-new")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(events), 1; got != want {
		t.Fatalf("events in stream = %d, want %d", got, want)
	}
}

func TestAppendAtReadVersionWithRetries(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	const writers = 50

	var conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for {
				v, err := store.StreamVersion(ctx, "race-seq")
				if err != nil {
					t.Error(err)
					return
				}
				_, err = store.Append(ctx, "race-seq", eventstore.Exactly(v), anEvent(i))
				if err == nil {
					return
				}
				if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
					t.Errorf("writer %d: %v", i, err)
					return
				}
				conflicts.Add(1)
			}
		})
	}
	wg.Wait()

	events, err := store.ReadStream(ctx, "race-seq")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(events), writers; got != want {
		t.Fatalf("events = %d, want %d", got, want)
	}
	seen := map[int]bool{}
	for i, e := range events {
		if got, want := e.StreamVersion, int64(i+1); got != want {
			t.Fatalf("event %d has version %d, want %d", i, got, want)
		}
		var body struct{ N int }
		if err := json.Unmarshal(e.Data, &body); err != nil {
			t.Fatal(err)
		}
		if seen[body.N] {
			t.Fatalf("writer %d appended twice", body.N)
		}
		seen[body.N] = true
	}
	t.Logf("%d conflicts retried", conflicts.Load())
}

func TestExpectedVersion(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()

	tests := []struct {
		name     string
		existing int // events already in the stream
		expected eventstore.ExpectedVersion
		wantErr  error
		wantNext int64
	}{
		{"no_stream_on_new_stream_appends", 0, eventstore.NoStream, nil, 2},
		{"no_stream_on_existing_stream_conflicts", 1, eventstore.NoStream, eventstore.ErrWrongExpectedVersion, 0},
		{"any_on_new_stream_appends", 0, eventstore.Any, nil, 2},
		{"any_on_existing_stream_appends", 3, eventstore.Any, nil, 5},
		{"exact_current_version_appends", 3, eventstore.Exactly(3), nil, 5},
		{"exact_older_version_conflicts", 3, eventstore.Exactly(2), eventstore.ErrWrongExpectedVersion, 0},
		{"exact_future_version_conflicts", 3, eventstore.Exactly(4), eventstore.ErrWrongExpectedVersion, 0},
		{"exact_version_on_new_stream_conflicts", 0, eventstore.Exactly(1), eventstore.ErrWrongExpectedVersion, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stream := "ev-" + tt.name
			for i := range tt.existing {
				if _, err := store.Append(ctx, stream, eventstore.Any, anEvent(i)); err != nil {
					t.Fatal(err)
				}
			}
			res, err := store.Append(ctx, stream, tt.expected, anEvent(100), anEvent(101))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got, want := res.NextExpectedVersion, tt.wantNext; got != want {
				t.Errorf("next version = %d, want %d", got, want)
			}
			events, err := store.ReadStream(ctx, stream)
			if err != nil {
				t.Fatal(err)
			}
			wantLen := tt.existing
			if tt.wantErr == nil {
				wantLen += 2
			}
			if got, want := len(events), wantLen; got != want {
				t.Errorf("stream length = %d, want %d (a failed append must store nothing)", got, want)
			}
		})
	}
}

func TestAppendStoresEveryField(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()

	in := anEvent(7)
	in.ID = uuid.New()
	in.SchemaVersion = 3
	res, err := store.Append(ctx, "fields", eventstore.NoStream, in)
	if err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadStream(ctx, "fields")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("events = %d, want 1", len(events))
	}
	got := events[0]
	if got.ID != in.ID || got.StreamID != "fields" || got.StreamVersion != 1 || got.Position != res.Positions[0] ||
		got.Type != in.Type || got.SchemaVersion != 3 || got.PartitionKey != "p" || got.Metadata != in.Metadata ||
		got.RecordedAt.IsZero() {
		t.Fatalf("stored event = %+v, appended %+v", got, in)
	}
	var a, b map[string]any
	_ = json.Unmarshal(got.Data, &a)
	_ = json.Unmarshal(in.Data, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("data = %s, want %s", got.Data, in.Data)
	}
	if _, err := store.Append(ctx, "other", eventstore.NoStream, in); !errors.Is(err, eventstore.ErrDuplicateEventID) {
		t.Fatalf("re-appending an event id: err = %v, want ErrDuplicateEventID", err)
	}
}

func TestAppendThousandEventsInOneCall(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()

	batch := make([]eventstore.EventData, 1000)
	for i := range batch {
		batch[i] = anEvent(i)
	}
	res, err := store.Append(ctx, "big", eventstore.NoStream, batch...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.NextExpectedVersion, int64(1000); got != want {
		t.Fatalf("next version = %d, want %d", got, want)
	}
	events, err := store.ReadStream(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(events), 1000; got != want {
		t.Fatalf("events = %d, want %d", got, want)
	}
	for i, e := range events {
		var body struct{ N int }
		_ = json.Unmarshal(e.Data, &body)
		if body.N != i || e.StreamVersion != int64(i+1) || e.Position != res.Positions[i] {
			t.Fatalf("event %d: n=%d version=%d position=%d, want n=%d version=%d position=%d",
				i, body.N, e.StreamVersion, e.Position, i, i+1, res.Positions[i])
		}
		if i > 0 && e.Position <= events[i-1].Position {
			t.Fatalf("positions do not rise with versions at %d", i)
		}
	}
}

func TestReadAllPagesHundredThousandEvents(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	const total, perAppend = 100_000, 1000

	for s := range total / perAppend {
		batch := make([]eventstore.EventData, perAppend)
		for i := range batch {
			batch[i] = anEvent(s*perAppend + i)
		}
		if _, err := store.Append(ctx, fmt.Sprintf("page-%d", s), eventstore.NoStream, batch...); err != nil {
			t.Fatal(err)
		}
	}

	var after int64
	seen := 0
	for {
		page, err := store.ReadAll(ctx, after, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Position <= after {
				t.Fatalf("position %d after %d: out of order", e.Position, after)
			}
			after = e.Position
			seen++
		}
	}
	if got, want := seen, total; got != want {
		t.Fatalf("events read = %d, want %d", got, want)
	}
}

func TestKeysAreUnique(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()

	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := store.AppendWith(ctx, eventstore.AppendRequest{
				Stream: fmt.Sprintf("keyed-%d", i), Expected: eventstore.NoStream,
				Events: []eventstore.EventData{anEvent(i)}, Keys: []string{"entry:c1:ABCD-EFGH"},
			})
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, eventstore.ErrDuplicateKey):
				t.Errorf("append %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got, want := wins.Load(), int32(1); got != want {
		t.Fatalf("appends that claimed the key = %d, want %d", got, want)
	}
	stream, err := store.StreamByKey(ctx, "entry:c1:ABCD-EFGH")
	if err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadStream(ctx, stream)
	if err != nil || len(events) != 1 {
		t.Fatalf("the key's stream %q has %d events (err %v), want 1", stream, len(events), err)
	}
	if got, _ := store.StreamByKey(ctx, "entry:c1:none"); got != "" {
		t.Fatalf("unknown key found stream %q", got)
	}
}
