package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// The raw baselines insert rows of the same width into a plain table on the
// same database in the same run, so the ratio means something on any machine.

func BenchmarkAppendSingle(b *testing.B) {
	store, ctx := newStore(b), context.Background()
	ev := anEvent(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := store.Append(ctx, "bench-"+uuid.NewString(), eventstore.NoStream, ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRawInsertSingle(b *testing.B) {
	store, ctx := newStore(b), context.Background()
	createRawTable(b, store)
	ev := anEvent(1)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := eventstore.PoolOf(store).Exec(ctx, `INSERT INTO raw_events (event_id, stream_id, type, data) VALUES ($1, $2, $3, $4)`,
				uuid.New(), "bench-"+uuid.NewString(), ev.Type, ev.Data); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAppendBatch100(b *testing.B) {
	store, ctx := newStore(b), context.Background()
	batch := make([]eventstore.EventData, 100)
	for i := range batch {
		batch[i] = anEvent(i)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := store.Append(ctx, "bench-"+uuid.NewString(), eventstore.NoStream, batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkRawInsertBatch100(b *testing.B) {
	store, ctx := newStore(b), context.Background()
	createRawTable(b, store)
	ev := anEvent(1)
	ids, data := make([]uuid.UUID, 100), make([][]byte, 100)
	for i := range data {
		data[i] = ev.Data
	}
	b.ResetTimer()
	for b.Loop() {
		for i := range ids {
			ids[i] = uuid.New()
		}
		if _, err := eventstore.PoolOf(store).Exec(ctx, `INSERT INTO raw_events (event_id, stream_id, type, data)
			SELECT unnest($1::uuid[]), $2, $3, unnest($4::jsonb[])`, ids, "bench-"+uuid.NewString(), ev.Type, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ids))/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkReadAllPage1000(b *testing.B) {
	store, ctx := newStore(b), context.Background()
	const total = 50_000
	for s := range total / 1000 {
		batch := make([]eventstore.EventData, 1000)
		for i := range batch {
			batch[i] = anEvent(i)
		}
		if _, err := store.Append(ctx, fmt.Sprintf("s-%d", s), eventstore.NoStream, batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var after int64
	read := 0
	for b.Loop() {
		page, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			b.Fatal(err)
		}
		read += len(page)
		if len(page) == 0 {
			after = 0
			continue
		}
		after = page[len(page)-1].Position
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}

func createRawTable(b *testing.B, store *eventstore.Store) {
	b.Helper()
	if _, err := eventstore.PoolOf(store).Exec(context.Background(), `CREATE TABLE raw_events (
		position bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL,
		type text NOT NULL, data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAppendBatchRegistrations is the group-commit path: batches of
// registrations, each a new stream with a key, a fence and a closing stream.
func BenchmarkAppendBatchRegistrations(b *testing.B) {
	for _, size := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("batch_%d", size), func(b *testing.B) {
			store, ctx := newStore(b), context.Background()
			ev := anEvent(1)
			b.ResetTimer()
			for b.Loop() {
				reqs := make([]eventstore.AppendRequest, size)
				for i := range reqs {
					id := uuid.NewString()
					reqs[i] = eventstore.AppendRequest{Stream: "participant-" + id, Expected: eventstore.NoStream,
						Events: []eventstore.EventData{ev}, Keys: []string{"entry:c:" + id},
						Fence: "campaign-c", ClosedBy: "draw-c"}
				}
				if _, errs, err := store.AppendBatch(ctx, reqs); err != nil || errs[0] != nil {
					b.Fatal(err, errs[0])
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
