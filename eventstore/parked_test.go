package eventstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

func parked(position int64, campaign string, refused bool) eventstore.ParkedEvent {
	p := eventstore.ParkedEvent{Position: position, EventID: uuid.New(), Campaign: campaign, Type: "Tested", Refused: refused}
	if refused {
		p.Error = "MESSAGE_TOO_LARGE"
	}
	return p
}

func parkedPositions(ps []eventstore.ParkedEvent) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = p.Position
	}
	return out
}

func mustParked(t *testing.T, store *eventstore.Store) []eventstore.ParkedEvent {
	t.Helper()
	ps, err := store.ParkedEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func mustKeys(t *testing.T, list func(context.Context) ([]string, error)) []string {
	t.Helper()
	keys, err := list(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// Parking records the rows and the reader's checkpoint past them together;
// parking an event twice (a relay that crashed after the commit parks the
// batch again) keeps the first row.
func TestParkRecordsTheRowsWithTheCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)

	if err := store.Park(ctx, "relay", 3, nil); err != nil {
		t.Fatal(err)
	}
	if cp, err := store.Checkpoint(ctx, "relay"); err != nil || cp != 3 {
		t.Fatalf("checkpoint after parking nothing = %d (%v), want 3", cp, err)
	}

	head := parked(5, "x", true)
	if err := store.Park(ctx, "relay", 7, []eventstore.ParkedEvent{head, parked(7, "x", false)}); err != nil {
		t.Fatal(err)
	}
	again := head
	again.EventID, again.Error = uuid.New(), "another"
	if err := store.Park(ctx, "relay", 6, []eventstore.ParkedEvent{again}); err != nil {
		t.Fatal(err)
	}
	if cp, err := store.Checkpoint(ctx, "relay"); err != nil || cp != 7 {
		t.Errorf("checkpoint = %d (%v), want 7 (never backwards)", cp, err)
	}
	got := mustParked(t, store)
	if len(got) != 2 || got[0].EventID != head.EventID || got[0].Error != "MESSAGE_TOO_LARGE" || !got[0].Refused ||
		got[1].Refused || got[1].Campaign != "x" || got[0].ParkedAt.IsZero() {
		t.Errorf("parked = %+v, want the refused head as first parked, then the held event", got)
	}
	if n, err := store.CountParked(ctx); err != nil || n != 2 {
		t.Errorf("CountParked = %d (%v), want 2", n, err)
	}
}

// A failed park moves no checkpoint: the events are neither lost nor
// skipped (here a second row claims the first one's event id).
func TestAFailedParkMovesNoCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	a, b := parked(1, "x", true), parked(2, "x", false)
	b.EventID = a.EventID
	if err := store.Park(ctx, "relay", 2, []eventstore.ParkedEvent{a, b}); err == nil {
		t.Fatal("parking two rows of one event id succeeded")
	}
	if cp, err := store.Checkpoint(ctx, "relay"); err != nil || cp != 0 {
		t.Errorf("checkpoint = %d (%v), want 0", cp, err)
	}
	if got := mustParked(t, store); len(got) != 0 {
		t.Errorf("parked = %+v, want none", got)
	}
}

// The relay's view of the queues: which campaigns are blocked, which are
// due to go out again, each queue in order; retries only of refused events.
func TestParkedQueuesRetryAndUnpark(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	x1, x2, x3 := parked(10, "x", true), parked(11, "x", false), parked(13, "x", true)
	y1, y2 := parked(12, "y", true), parked(14, "y", false)
	if err := store.Park(ctx, "relay", 14, []eventstore.ParkedEvent{x1, x2, y1, x3, y2}); err != nil {
		t.Fatal(err)
	}
	if got := mustKeys(t, store.ParkedCampaigns); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("ParkedCampaigns = %v, want [x y]", got)
	}
	if got := mustKeys(t, store.DueParkedCampaigns); len(got) != 0 {
		t.Errorf("DueParkedCampaigns before any retry = %v, want none", got)
	}
	queue, err := store.ParkedQueue(ctx, "x")
	if err != nil || !slices.Equal(parkedPositions(queue), []int64{10, 11, 13}) {
		t.Fatalf("ParkedQueue(x) = %v (%v), want [10 11 13]", parkedPositions(queue), err)
	}

	asked, err := store.RequestRetry(ctx, []uuid.UUID{x1.EventID, x2.EventID})
	if !errors.Is(err, eventstore.ErrNotRefused) || !slices.Equal(asked, []uuid.UUID{x1.EventID}) {
		t.Errorf("retry of a refused and a held event = %v, %v; want the refused one and ErrNotRefused", asked, err)
	}
	if got := mustKeys(t, store.DueParkedCampaigns); !slices.Equal(got, []string{"x"}) {
		t.Errorf("DueParkedCampaigns after x's retry = %v, want [x]", got)
	}

	// Kafka refuses x's head again: the request is answered, x waits again.
	if err := store.RefuseParked(ctx, 10, "still too large"); err != nil {
		t.Fatal(err)
	}
	queue, _ = store.ParkedQueue(ctx, "x")
	if head := queue[0]; !head.Refused || head.RetryRequested || head.Error != "still too large" {
		t.Errorf("head after a refused retry = %+v, want refused again, no request", head)
	}
	if got := mustKeys(t, store.DueParkedCampaigns); len(got) != 0 {
		t.Errorf("DueParkedCampaigns after the refusal = %v, want none", got)
	}

	// y's head went out, but not the rest: a queue without a refused head is due.
	if err := store.Unpark(ctx, []int64{12}); err != nil {
		t.Fatal(err)
	}
	if got := mustKeys(t, store.DueParkedCampaigns); !slices.Equal(got, []string{"y"}) {
		t.Errorf("DueParkedCampaigns after y's head went = %v, want [y]", got)
	}

	all, err := store.RequestRetry(ctx, nil)
	if err != nil || len(all) != 2 {
		t.Errorf("retry of every refused event = %v (%v), want x's two", all, err)
	}
	if err := store.Unpark(ctx, []int64{10, 11, 13, 14}); err != nil {
		t.Fatal(err)
	}
	if got := mustParked(t, store); len(got) != 0 {
		t.Errorf("parked after unparking all = %+v, want none", got)
	}
}
