package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// outcome names a self-service answer: "ok", "404", "429 3600s", or the error.
func outcome(err error) string {
	var locked *commands.EntryLockedError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, domain.ErrParticipantNotFound):
		return "404"
	case errors.As(err, &locked):
		return "429 " + locked.RetryAfter.String()
	}
	return err.Error()
}

func (f *fixture) erase(eventID uuid.UUID, phone, entryNumber string) string {
	return outcome(f.app.Commands.EraseMyData.Handle(context.Background(), commands.EraseMyData{
		EventID: eventID, Phone: phone, EntryNumber: entryNumber,
	}))
}

func (f *fixture) advance(d time.Duration) {
	now := f.now.Load().Add(d)
	f.now.Store(&now)
}

const wrongPhone = "010-9999-0000"

// Five wrong phones within the hour lock the entry for the hour, for the
// right phone too; a right phone before the lock resets nothing; the lock
// ends after the hour; wrong phones older than the hour stop counting.
func TestEraseLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID := f.openCampaign(t, "owner-a")
	reg, err := register(f, eventID, "010-1234-5678")
	if err != nil {
		t.Fatal(err)
	}
	entry := reg.EntryNumber
	step := func(phone, want string) {
		t.Helper()
		if got := f.erase(eventID, phone, entry); got != want {
			t.Fatalf("erase with %s at %s: %s, want %s", phone, f.now.Load().Format(time.TimeOnly), got, want)
		}
	}
	for range 4 {
		step(wrongPhone, "404")
		f.advance(time.Minute)
	}
	step("010-1234-5678", "ok") // erases; the four wrong phones still count
	step(wrongPhone, "404")     // the fifth within the hour: locks
	step("010-1234-5678", "429 1h0m0s")
	step(wrongPhone, "429 1h0m0s")
	f.advance(59 * time.Minute)
	step("010-1234-5678", "429 1m0s")
	f.advance(time.Minute)
	step("010-1234-5678", "ok") // the lock has ended, and it spent the five
	for range 4 {
		step(wrongPhone, "404")
	}
	f.advance(time.Hour + time.Second) // those four no longer count
	for range 4 {
		step(wrongPhone, "404")
	}
	step("010-1234-5678", "ok")
	step(wrongPhone, "404")
	step("010-1234-5678", "429 1h0m0s")
}

// An entry number nobody holds is counted and locked exactly as a known
// one, so neither the 404s nor the 429 tell whether an entry exists; an
// entry number no entry could have is 404 without counting.
func TestEraseLockoutDoesNotTellUnknownEntries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID := f.openCampaign(t, "owner-a")
	reg, err := register(f, eventID, "010-1234-5678")
	if err != nil {
		t.Fatal(err)
	}
	unknown := "ZZZZ-ZZZZ"
	if unknown == reg.EntryNumber {
		unknown = "YYYY-YYYY"
	}
	var known, other []string
	for range 7 {
		known = append(known, f.erase(eventID, wrongPhone, reg.EntryNumber))
		other = append(other, f.erase(eventID, wrongPhone, unknown))
	}
	want := []string{"404", "404", "404", "404", "404", "429 1h0m0s", "429 1h0m0s"}
	for i := range want {
		if known[i] != want[i] || other[i] != want[i] {
			t.Fatalf("attempt %d: known entry %s, unknown entry %s; want both %s", i+1, known[i], other[i], want[i])
		}
	}
	for range 10 {
		if got := f.erase(eventID, wrongPhone, "not-an-entry"); got != "404" {
			t.Fatalf("malformed entry number: %s, want 404", got)
		}
	}
	// The lock is per campaign and entry: another entry is still open.
	other2, err := register(f, eventID, "010-2222-3333")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.erase(eventID, "010-2222-3333", other2.EntryNumber); got != "ok" {
		t.Fatalf("another entry: %s, want ok", got)
	}
}

// Two instances over one database, 20 wrong phones at once: exactly five
// are checked (404) and the fifteen others refused (429), none slips
// through; then the right phone is refused too.
func TestEraseLockoutHoldsUnderConcurrencyAcrossInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID := f.openCampaign(t, "owner-a")
	reg, err := register(f, eventID, "010-1234-5678")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), f.pool.Config().Copy())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	second, err := commands.New(eventstore.New(pool), commands.Config{
		PIIKey: []byte("test-pii-key-0123456789abcdef"),
		Clock:  func() time.Time { return *f.now.Load() },
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	for i := range 20 {
		h := f.app
		if i%2 == 1 {
			h = second
		}
		wg.Go(func() {
			got := outcome(h.Commands.EraseMyData.Handle(context.Background(), commands.EraseMyData{
				EventID: eventID, Phone: wrongPhone, EntryNumber: reg.EntryNumber,
			}))
			if got == "429 1h0m0s" || got == "429 1s" {
				got = "429"
			}
			mu.Lock()
			counts[got]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts["404"] != 5 || counts["429"] != 15 || len(counts) != 2 {
		t.Fatalf("answers %v, want 5 × 404 and 15 × 429", counts)
	}
	for _, h := range []commands.Application{f.app, second} {
		got := outcome(h.Commands.EraseMyData.Handle(context.Background(), commands.EraseMyData{
			EventID: eventID, Phone: "010-1234-5678", EntryNumber: reg.EntryNumber,
		}))
		if got != "429 1h0m0s" {
			t.Fatalf("right phone after the lock: %s, want 429 1h0m0s", got)
		}
	}
}
