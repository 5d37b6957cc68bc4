package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type fixture struct {
	store *eventstore.Store
	pool  *pgxpool.Pool // the store's, for a second instance over the same database
	app   commands.Application
	now   atomic.Pointer[time.Time]
}

// newFixture wires the handlers as the service does, with group commit.
func newFixture(t *testing.T) *fixture { t.Helper(); return newFixtureWith(t, true) }

func newFixtureWith(t *testing.T, groupCommit bool) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := testenv.Pool(t, 60)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: eventstore.New(pool), pool: pool}
	now := testNow
	f.now.Store(&now)
	var batcher *eventstore.Batcher
	if groupCommit {
		batcher = f.store.NewBatcher(eventstore.BatcherConfig{})
		t.Cleanup(batcher.Close)
	}
	var err error
	f.app, err = commands.New(f.store, commands.Config{
		PIIKey:  []byte("test-pii-key-0123456789abcdef"),
		Clock:   func() time.Time { return *f.now.Load() },
		Batcher: batcher,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) openCampaign(t *testing.T, owner string) uuid.UUID {
	t.Helper()
	opened, err := f.app.Commands.OpenCampaign.Handle(context.Background(), commands.OpenCampaign{
		OwnerID: owner, Title: "오픈 기념 이벤트",
		StartsAt: testNow.Add(-time.Hour), EndsAt: testNow.Add(24 * time.Hour), AnnounceAt: testNow.Add(48 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return opened.EventID
}

func register(f *fixture, eventID uuid.UUID, phone string) (commands.Registration, error) {
	return f.app.Commands.RegisterParticipant.Handle(context.Background(), commands.RegisterParticipant{
		EventID: eventID, Name: "김철수", Phone: phone, EntryPath: "instagram", PrivacyConsent: true,
	})
}

func phoneN(i int) string { return fmt.Sprintf("010-%04d-%04d", i/10000, i%10000) }

func TestRegisterParticipant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID := f.openCampaign(t, "owner-1")

	tests := []struct {
		name    string
		eventID uuid.UUID
		phone   string
		at      time.Time
		wantErr error
	}{
		{"first_registration_is_accepted", eventID, "010-1234-5678", testNow, nil},
		{"duplicate_written_without_dashes_is_refused", eventID, "01012345678", testNow, domain.ErrAlreadyParticipated},
		{"duplicate_written_with_spaces_is_refused", eventID, "010 1234 5678", testNow, domain.ErrAlreadyParticipated},
		{"another_phone_is_accepted", eventID, "010-1234-5679", testNow, nil},
		{"before_the_start_is_not_open", eventID, "010-2222-0001", testNow.Add(-2 * time.Hour), domain.ErrEventNotOpen},
		{"at_the_end_is_not_open", eventID, "010-2222-0002", testNow.Add(24 * time.Hour), domain.ErrEventNotOpen},
		{"unknown_campaign_is_not_found", uuid.New(), "010-2222-0003", testNow, domain.ErrCampaignNotFound},
		{"invalid_phone_is_invalid", eventID, "011-1234-5678", testNow, domain.ErrInvalid},
	}
	for _, tt := range tests { // in order: the duplicates depend on the first
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			f.now.Store(&at)
			reg, err := register(f, tt.eventID, tt.phone)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (reg.ParticipantID == uuid.Nil || !domain.ValidEntryNumber(reg.EntryNumber)) {
				t.Fatalf("registration = %+v", reg)
			}
		})
	}
}

func TestConcurrentRegistrationsOfOnePhoneStoreOne(t *testing.T) {
	t.Parallel()
	for _, grouped := range []bool{true, false} {
		t.Run(fmt.Sprintf("group_commit_%v", grouped), func(t *testing.T) {
			t.Parallel()
			testConcurrentRegistrationsOfOnePhoneStoreOne(t, newFixtureWith(t, grouped))
		})
	}
}

func testConcurrentRegistrationsOfOnePhoneStoreOne(t *testing.T, f *fixture) {
	eventID := f.openCampaign(t, "owner-1")
	spellings := []string{"010-5555-1234", "01055551234", "010 5555 1234"}

	var ok, dup atomic.Int32
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			_, err := register(f, eventID, spellings[i%len(spellings)])
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, domain.ErrAlreadyParticipated):
				dup.Add(1)
			default:
				t.Errorf("registration %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || dup.Load() != 99 {
		t.Fatalf("accepted %d, duplicates %d; want 1 and 99", ok.Load(), dup.Load())
	}
	stored, err := f.store.ReadPartition(context.Background(), eventID.String(), []string{domain.TypeParticipantRegistered}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(stored), 1; got != want {
		t.Fatalf("stored registrations = %d, want %d", got, want)
	}
}

func TestConcurrentDrawsDrawOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID := f.openCampaign(t, "owner-1")
	for i := range 20 {
		if _, err := register(f, eventID, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	var ok, drawn atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_, err := f.app.Commands.DrawWinners.Handle(context.Background(), commands.DrawWinners{EventID: eventID, OwnerID: "owner-1", WinnerCount: 3})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, domain.ErrAlreadyDrawn):
				drawn.Add(1)
			default:
				t.Errorf("draw %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || drawn.Load() != 9 {
		t.Fatalf("draws done %d, refused %d; want 1 and 9", ok.Load(), drawn.Load())
	}
}

// Registrations race a draw: every registration that was accepted is a
// candidate of the draw, and every one after it is refused as not open.
func TestDrawClosesRegistrationWithEveryAcceptedOneACandidate(t *testing.T) {
	t.Parallel()
	for _, grouped := range []bool{true, false} {
		t.Run(fmt.Sprintf("group_commit_%v", grouped), func(t *testing.T) {
			t.Parallel()
			testDrawClosesRegistrationWithEveryAcceptedOneACandidate(t, newFixtureWith(t, grouped))
		})
	}
}

func testDrawClosesRegistrationWithEveryAcceptedOneACandidate(t *testing.T, f *fixture) {
	ctx := context.Background()
	eventID := f.openCampaign(t, "owner-1")
	for i := range 5 {
		if _, err := register(f, eventID, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu       sync.Mutex
		accepted = map[uuid.UUID]bool{}
		next     atomic.Int32
		wg       sync.WaitGroup
	)
	next.Store(5)
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				reg, err := register(f, eventID, phoneN(int(next.Add(1))))
				switch {
				case err == nil:
					mu.Lock()
					accepted[reg.ParticipantID] = true
					mu.Unlock()
				case errors.Is(err, domain.ErrEventNotOpen):
					return
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	outcome, err := f.app.Commands.DrawWinners.Handle(ctx, commands.DrawWinners{EventID: eventID, OwnerID: "owner-1", WinnerCount: 2})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	v, err := f.app.Queries.VerifyDraw.Handle(ctx, commands.VerifyDraw{DrawID: outcome.DrawID, OwnerID: "owner-1"})
	if err != nil {
		t.Fatal(err)
	}
	candidates, err := f.store.ReadPartition(ctx, eventID.String(), []string{domain.TypeParticipantRegistered}, v.Draw.CutoffPosition)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Draw.CandidateCount, len(accepted)+5; got != want {
		t.Fatalf("candidates = %d, accepted registrations = %d", got, want)
	}
	if got, want := len(candidates), v.Draw.CandidateCount; got != want {
		t.Fatalf("registrations up to the cut-off = %d, candidates = %d", got, want)
	}
	all, err := f.store.ReadPartition(ctx, eventID.String(), []string{domain.TypeParticipantRegistered}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(all), len(candidates); got != want {
		t.Fatalf("registrations stored = %d, but %d were candidates: one was stored after the draw", got, want)
	}
	if !v.Result.Verified {
		t.Fatalf("draw does not verify: %v", v.Result.Mismatches)
	}
	if _, err := register(f, eventID, "010-9999-9999"); !errors.Is(err, domain.ErrEventNotOpen) {
		t.Fatalf("registration after the draw: err = %v, want ErrEventNotOpen", err)
	}
}

func TestDrawWinners(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	eventID := f.openCampaign(t, "owner-1")
	empty := f.openCampaign(t, "owner-1")
	for i := range 5 {
		if _, err := register(f, eventID, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		eventID uuid.UUID
		owner   string
		count   int
		wantErr error
	}{
		{"another_owner_is_forbidden", eventID, "owner-2", 1, domain.ErrNotOwner},
		{"zero_winners_is_invalid", eventID, "owner-1", 0, domain.ErrInvalidWinnerCount},
		{"more_winners_than_candidates_is_invalid", eventID, "owner-1", 6, domain.ErrInvalidWinnerCount},
		{"no_candidates_is_invalid", empty, "owner-1", 1, domain.ErrInvalidWinnerCount},
		{"all_candidates_win", eventID, "owner-1", 5, nil},
		{"second_draw_is_refused_before_the_count", eventID, "owner-1", 0, domain.ErrAlreadyDrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome, err := f.app.Commands.DrawWinners.Handle(ctx, commands.DrawWinners{EventID: tt.eventID, OwnerID: tt.owner, WinnerCount: tt.count})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got, want := len(outcome.Winners), tt.count; got != want {
				t.Fatalf("winners = %d, want %d", got, want)
			}
			for i, w := range outcome.Winners {
				if w.Rank != i+1 || w.Name != "김**" || !strings.HasPrefix(w.Phone, "010-****-") { // masked by privacy.Mask
					t.Fatalf("winner %d = %+v", i, w)
				}
			}
		})
	}
}

func TestRecordStoreVisit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	eventID := f.openCampaign(t, "owner-1")
	reg, err := register(f, eventID, "010-1111-2222")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		owner       string
		entryNumber string
		wantErr     error
	}{
		{"owner_records_a_visit", "owner-1", reg.EntryNumber, nil},
		{"a_second_visit_changes_nothing", "owner-1", reg.EntryNumber, nil},
		{"another_owner_is_forbidden", "owner-2", reg.EntryNumber, domain.ErrNotOwner},
		{"unknown_entry_number_is_not_found", "owner-1", "ZZZZ-ZZZZ", domain.ErrParticipantNotFound},
		{"malformed_entry_number_is_not_found", "owner-1", "../x", domain.ErrParticipantNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.app.Commands.RecordStoreVisit.Handle(ctx, commands.RecordStoreVisit{EventID: eventID, OwnerID: tt.owner, EntryNumber: tt.entryNumber})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	stored, err := f.store.ReadStream(ctx, domain.ParticipantStream(reg.ParticipantID))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(stored), 2; got != want {
		t.Fatalf("participant stream has %d events, want 2 (registration and one visit)", got)
	}
}

func TestOpenCampaignTwiceIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.openCampaign(t, "owner-1")
	_, err := f.app.Commands.OpenCampaign.Handle(context.Background(), commands.OpenCampaign{
		EventID: id, OwnerID: "owner-1", Title: "again",
		StartsAt: testNow, EndsAt: testNow.Add(time.Hour), AnnounceAt: testNow.Add(time.Hour),
	})
	if !errors.Is(err, domain.ErrCampaignExists) {
		t.Fatalf("err = %v, want ErrCampaignExists", err)
	}
}
