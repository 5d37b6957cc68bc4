package eventstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

// failedStatements counts the statements PostgreSQL refused, in batches and
// alone: an append that aborts and reruns its batch shows here.
type failedStatements struct {
	batches atomic.Int32
	failed  atomic.Int32
}

func (f *failedStatements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (f *failedStatements) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	if d.Err != nil {
		f.failed.Add(1)
	}
}

func (f *failedStatements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	f.batches.Add(1)
	return ctx
}

func (f *failedStatements) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if d.Err != nil {
		f.failed.Add(1)
	}
}

func (f *failedStatements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// A batch holding a duplicate registration, a closed campaign's and a held
// entry number is written in one round trip that no statement fails: the
// losers are answered alone, the winners commit in the batch's one
// transaction, nothing is sent twice.
func TestADuplicateNeverAbortsItsBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	trace := &failedStatements{}
	cfg.ConnConfig.Tracer = trace
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool)
	for _, req := range []eventstore.AppendRequest{
		{Stream: "participant-dup", Events: []eventstore.EventData{anEvent(0)}},
		{Stream: "draw-closed", Events: []eventstore.EventData{anEvent(0)}},
		{Stream: "participant-holder", Events: []eventstore.EventData{anEvent(0)}, Keys: []string{"entry:held"}},
	} {
		if _, err := store.AppendWith(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	one := []eventstore.EventData{anEvent(1)}
	reqs := []eventstore.AppendRequest{
		{Stream: "participant-a", Events: one, Keys: []string{"entry:a"}, Fence: "open", ClosedBy: "draw-open"},
		{Stream: "participant-dup", Events: one, Keys: []string{"entry:dup"}, Fence: "open", ClosedBy: "draw-open"},
		{Stream: "participant-c", Events: one, Keys: []string{"entry:c"}, Fence: "closed", ClosedBy: "draw-closed"},
		{Stream: "participant-d", Events: one, Keys: []string{"entry:held"}},
		{Stream: "participant-b", Events: one, Keys: []string{"entry:b"}, Fence: "open", ClosedBy: "draw-open"},
	}
	want := []error{nil, eventstore.ErrWrongExpectedVersion, eventstore.ErrClosed, eventstore.ErrDuplicateKey, nil}
	trace.batches.Store(0)
	results, errs, err := store.AppendBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		if !errors.Is(errs[i], want[i]) {
			t.Errorf("%s: err = %v, want %v", reqs[i].Stream, errs[i], want[i])
		}
		if want[i] == nil && len(results[i].Positions) != 1 {
			t.Errorf("%s: positions %v, want one", reqs[i].Stream, results[i].Positions)
		}
	}
	if n, f := trace.batches.Load(), trace.failed.Load(); n != 1 || f != 0 {
		t.Errorf("the batch took %d round trips with %d failed statements, want 1 and 0", n, f)
	}
	var txs, events int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT tx_id), count(*) FROM events WHERE stream_id IN ('participant-a', 'participant-b')`).
		Scan(&txs, &events); err != nil {
		t.Fatal(err)
	}
	if txs != 1 || events != 2 {
		t.Errorf("winners: %d events in %d transactions, want 2 in 1", events, txs)
	}
	for _, stream := range []string{"participant-c", "participant-d"} {
		if v, _ := store.StreamVersion(ctx, stream); v != 0 {
			t.Errorf("a loser left stream %s at version %d", stream, v)
		}
	}
	if s, _ := store.StreamByKey(ctx, "entry:dup"); s != "" {
		t.Errorf("the duplicate left its entry number on %q", s)
	}
}
