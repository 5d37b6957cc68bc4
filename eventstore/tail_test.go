package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shopevents/participation/eventstore"
)

// holdOpen appends in a transaction that the test commits or rolls back later.
func holdOpen(t *testing.T, store *eventstore.Store, stream string) (*eventstore.Tx, int64) {
	t.Helper()
	ctx := context.Background()
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	res, err := tx.Append(ctx, eventstore.AppendRequest{Stream: stream, Expected: eventstore.NoStream,
		Events: []eventstore.EventData{anEvent(0)}})
	if err != nil {
		t.Fatal(err)
	}
	return tx, res.Positions[0]
}

func positions(events []eventstore.RecordedEvent) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Position
	}
	return out
}

func TestTailStopsBeforeAnUncommittedLowerPosition(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()

	first, err := store.Append(ctx, "before", eventstore.NoStream, anEvent(1))
	if err != nil {
		t.Fatal(err)
	}
	held, heldPos := holdOpen(t, store, "held")
	later, err := store.Append(ctx, "later", eventstore.NoStream, anEvent(2))
	if err != nil {
		t.Fatal(err)
	}
	if later.Positions[0] <= heldPos {
		t.Fatalf("setup: later position %d not above held %d", later.Positions[0], heldPos)
	}

	tail := store.NewTail(0)
	for range 3 { // asking again does not get past the hole while it is open
		events, _, err := tail.Next(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Position >= heldPos {
				t.Fatalf("tail returned position %d past the uncommitted position %d", e.Position, heldPos)
			}
		}
	}
	if got, want := tail.Position(), first.Positions[0]; got != want {
		t.Fatalf("tail position = %d, want %d", got, want)
	}

	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	events, waiting, err := tail.Next(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(positions(events)), fmt.Sprint([]int64{heldPos, later.Positions[0]}); got != want || waiting {
		t.Fatalf("after commit: positions %s (waiting %v), want %s", got, waiting, want)
	}
}

func TestTailPassesAHoleLeftByARollback(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()

	held, heldPos := holdOpen(t, store, "rolled-back")
	later, err := store.Append(ctx, "later", eventstore.NoStream, anEvent(2))
	if err != nil {
		t.Fatal(err)
	}
	tail := store.NewTail(0)
	if events, waiting, err := tail.Next(ctx, 100); err != nil || len(events) != 0 || !waiting {
		t.Fatalf("with the hole open: %d events, waiting %v, err %v; want none, waiting", len(events), waiting, err)
	}
	if err := held.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(positions(events)), fmt.Sprint([]int64{later.Positions[0]}); got != want {
		t.Fatalf("after rollback of %d: positions %s, want %s", heldPos, got, want)
	}
}

// Writers commit out of position order, some holding their transactions
// open on purpose, while a reader tails: it must see every committed event
// exactly once, in rising position order.
func TestTailSeesEveryEventOnceUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	const writers, perWriter = 8, 60

	committed := make(chan int64, writers*perWriter)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWriter {
				tx, err := store.Begin(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				res, err := tx.Append(ctx, eventstore.AppendRequest{
					Stream: fmt.Sprintf("w%d-%d", w, i), Expected: eventstore.NoStream,
					Events: []eventstore.EventData{anEvent(i)},
				})
				if err != nil {
					t.Error(err)
					_ = tx.Rollback(ctx)
					return
				}
				switch rng.IntN(10) {
				case 0: // held open while others commit past it
					time.Sleep(time.Duration(5+rng.IntN(30)) * time.Millisecond)
				case 1: // leaves a hole that never fills
					_ = tx.Rollback(ctx)
					continue
				}
				if err := tx.Commit(ctx); err != nil {
					t.Error(err)
					return
				}
				committed <- res.Positions[0]
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(committed); close(done) }()

	seen := map[int64]bool{}
	var last int64
	tail := store.NewTail(0)
	read := func() {
		events, _, err := tail.Next(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Position <= last {
				t.Fatalf("position %d after %d", e.Position, last)
			}
			if seen[e.Position] {
				t.Fatalf("position %d seen twice", e.Position)
			}
			seen[e.Position], last = true, e.Position
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			read()
		}
	}
	want := map[int64]bool{}
	for p := range committed {
		want[p] = true
	}
	// drain what is left after the writers finished
	for deadline := time.Now().Add(30 * time.Second); len(seen) < len(want) && time.Now().Before(deadline); {
		read()
	}
	if got, want := len(seen), len(want); got != want {
		t.Fatalf("tail saw %d events, writers committed %d", got, want)
	}
	for p := range want {
		if !seen[p] {
			t.Fatalf("committed position %d never seen", p)
		}
	}
}

func TestExclusiveWaitsForAppendsInFlightAndClosesLaterOnes(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	const fence, closer = "campaign-1", "draw-1"

	inFlight, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inFlight.Rollback(ctx)
	if _, err := inFlight.Append(ctx, eventstore.AppendRequest{Stream: "reg-1", Expected: eventstore.NoStream,
		Events: []eventstore.EventData{anEvent(1)}, Fence: fence, ClosedBy: closer}); err != nil {
		t.Fatal(err)
	}

	seenBySection := make(chan int, 1)
	sectionErr := make(chan error, 1)
	go func() {
		sectionErr <- store.Exclusive(ctx, fence, func(ctx context.Context, tx *eventstore.Tx) error {
			events, err := tx.ReadPartition(ctx, "p", []string{"Tested"}, 0)
			if err != nil {
				return err
			}
			seenBySection <- len(events)
			_, err = tx.Append(ctx, eventstore.AppendRequest{Stream: closer, Expected: eventstore.NoStream,
				Events: []eventstore.EventData{anEvent(2)}})
			return err
		})
	}()

	// The section must be queued behind the in-flight append before it commits.
	waitFor(t, func() bool {
		var waiting int
		_ = eventstore.PoolOf(store).QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting)
		return waiting > 0
	})
	if err := inFlight.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-sectionErr; err != nil {
		t.Fatal(err)
	}
	if got, want := <-seenBySection, 1; got != want {
		t.Fatalf("the section saw %d registrations, want %d (the one in flight)", got, want)
	}

	_, err = store.AppendWith(ctx, eventstore.AppendRequest{Stream: "reg-2", Expected: eventstore.NoStream,
		Events: []eventstore.EventData{anEvent(3)}, Fence: fence, ClosedBy: closer})
	if !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after the closing section: err = %v, want ErrClosed", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	// a bound against hanging (a loaded machine under -race), not a timing
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 60s")
}

// PostgreSQL's snapshot xmax is the newest *completed* xid plus one, not the
// next xid to be assigned: a transaction that took its xid after one that
// is still to draw its position, but drew its own first, is invisible to a
// snapshot's xmin and xmax alike. Here "late" takes its xid first and draws
// its position last; "early" takes its xid second and holds the hole below.
// The tail must not settle that hole while "early" is open.
func TestTailHoldsAHoleWhoseTransactionIsNewerThanTheSnapshotXmax(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	pool := eventstore.PoolOf(store)

	late, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx)
	if _, err := late.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err) // late's xid is assigned here, before early's
	}
	early, earlyPos := holdOpen(t, store, "early")
	var latePos int64
	if err := late.QueryRow(ctx, `INSERT INTO events (position, tx_id, event_id, stream_id, stream_version, type, data)
		VALUES (nextval('events_position_seq'), pg_current_xact_id(), gen_random_uuid(), 'late', 1, 'Tested', '{}')
		RETURNING position`).Scan(&latePos); err != nil {
		t.Fatal(err)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if latePos <= earlyPos {
		t.Fatalf("setup: late position %d not above early %d", latePos, earlyPos)
	}

	tail := store.NewTail(0)
	for range 5 { // asking again, with early still open, never passes its hole
		events, _, err := tail.Next(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) > 0 {
			t.Fatalf("tail returned %v past the open position %d", positions(events), earlyPos)
		}
	}
	if err := early.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	events, _, err := tail.Next(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(positions(events)), fmt.Sprint([]int64{earlyPos, latePos}); got != want {
		t.Fatalf("after the commit the tail returned %s, want %s", got, want)
	}
}
