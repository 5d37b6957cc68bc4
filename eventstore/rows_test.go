package eventstore_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// registrationRequest is a registration as the command sends it: a new
// participant stream, its entry number, its data key, the campaign's fence
// and closing stream.
func registrationRequest(t *testing.T, campaign uuid.UUID, entry string) eventstore.AppendRequest {
	t.Helper()
	id := uuid.New()
	return eventstore.AppendRequest{
		Stream: "participant-" + id.String(), Expected: eventstore.NoStream,
		Events:     []eventstore.EventData{registration(t, campaign.String(), id, entry)},
		Entry:      &eventstore.EntryClaim{Campaign: campaign, Number: entry},
		Fence:      "campaign-" + campaign.String(),
		ClosedBy:   "draw-" + campaign.String(),
		SubjectKey: &eventstore.SubjectKey{Subject: id, Wrapped: []byte{1}},
	}
}

// An entry number is held once per campaign, by the candidate of the
// registration that won it, whoever races for it: in one batch, in
// concurrent batches, and the same number in another campaign is free.
func TestAnEntryNumberIsHeldOncePerCampaignUnderRaces(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), t.Context()
	campaign, other := uuid.New(), uuid.New()
	const entry = "AB23-CD45"

	var (
		mu     sync.Mutex
		wins   []string
		dups   int
		others int
		wg     sync.WaitGroup
	)
	for range 12 {
		wg.Go(func() {
			reqs := []eventstore.AppendRequest{registrationRequest(t, campaign, entry), registrationRequest(t, campaign, entry)}
			_, errs, err := store.AppendBatch(ctx, reqs)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i, err := range errs {
				switch {
				case err == nil:
					wins = append(wins, reqs[i].Stream)
				case errors.Is(err, eventstore.ErrDuplicateKey):
					dups++
				default:
					t.Errorf("request %d: %v, want a win or ErrDuplicateKey", i, err)
				}
			}
		})
	}
	wg.Go(func() {
		if _, err := store.AppendWith(ctx, registrationRequest(t, other, entry)); err != nil {
			t.Errorf("the number in another campaign: %v", err)
			return
		}
		mu.Lock()
		others++
		mu.Unlock()
	})
	wg.Wait()
	if len(wins) != 1 || dups != 23 || others != 1 {
		t.Fatalf("wins %d, duplicates %d, other campaign %d; want 1, 23, 1", len(wins), dups, others)
	}
	id, err := store.ParticipantByEntry(ctx, campaign, entry)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := "participant-"+id.String(), wins[0]; got != want {
		t.Errorf("the entry's participant is %s, want the winner %s", got, want)
	}
	if id, err := store.ParticipantByEntry(ctx, campaign, "ZZZZ-ZZZZ"); err != nil || id != uuid.Nil {
		t.Errorf("an entry nobody holds: %v, %v; want uuid.Nil", id, err)
	}
}

// Appends with Any race for the same newest version; the ones that lose
// are sent again, so every append lands, its events next to each other,
// and the stream's versions run 1..n without a gap or a repeat.
func TestAnyAppendsAllLandUnderRaces(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), t.Context()
	const writers = 24
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			res, err := store.Append(ctx, "race-any", eventstore.Any, anEvent(i), anEvent(i))
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
				return
			}
			if len(res.Positions) != 2 || res.NextExpectedVersion%2 != 0 {
				t.Errorf("writer %d: %+v, want two events ending at an even version", i, res)
			}
		})
	}
	wg.Wait()
	events, err := store.ReadStream(ctx, "race-any")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(events), 2*writers; got != want {
		t.Fatalf("events = %d, want %d", got, want)
	}
	for i, e := range events {
		if got, want := e.StreamVersion, int64(i+1); got != want {
			t.Fatalf("event %d has version %d, want %d", i, got, want)
		}
		if i%2 == 1 && string(e.Data) != string(events[i-1].Data) {
			t.Fatalf("versions %d and %d are of different appends", i, i+1)
		}
	}
}

// An append that loses to a committed version (a duplicate registration,
// a stale Exactly) draws no position: it leaves no hole in the log for the
// tail to wait out.
func TestALostAppendDrawsNoPosition(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), t.Context()
	first, err := store.Append(ctx, "s-lost", eventstore.NoStream, anEvent(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, expected := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Exactly(0)} {
		if _, err := store.Append(ctx, "s-lost", expected, anEvent(2)); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			t.Fatalf("append at %d: %v, want ErrWrongExpectedVersion", expected, err)
		}
	}
	next, err := store.Append(ctx, "s-next", eventstore.NoStream, anEvent(3))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := next.Positions[0], first.Positions[0]+1; got != want {
		t.Fatalf("the next append's position = %d, want %d (the lost ones drew none)", got, want)
	}
}
