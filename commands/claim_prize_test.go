package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// drawnCampaign is a campaign of four registrations drawn with one winner
// and one alternate; it returns the registrations' phones by entry number
// and the winner's and the alternate's entry numbers.
func (f *fixture) drawnCampaign(t *testing.T) (eventID uuid.UUID, phones map[string]string, winner, alternate string) {
	t.Helper()
	eventID = f.openCampaign(t, "owner-1")
	phones = map[string]string{}
	for i := range 4 {
		reg, err := register(f, eventID, phoneN(i))
		if err != nil {
			t.Fatal(err)
		}
		phones[reg.EntryNumber] = phoneN(i)
	}
	out, err := f.app.Commands.DrawWinners.Handle(context.Background(), commands.DrawWinners{EventID: eventID, OwnerID: "owner-1", WinnerCount: 1, AlternateCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	return eventID, phones, out.Winners[0].EntryNumber, out.Alternates[0].EntryNumber
}

var validDelivery = domain.Delivery{RecipientName: "김철수", Postcode: "06236", Address1: "서울특별시 강남구 테헤란로 123", Address2: "4층"}

func (f *fixture) claim(eventID uuid.UUID, phone, entryNumber string) (domain.PrizeClaimed, error) {
	return f.app.Commands.ClaimPrize.Handle(context.Background(), commands.ClaimPrize{
		EventID: eventID, Phone: phone, EntryNumber: entryNumber, Delivery: validDelivery, DeliveryConsent: true,
	})
}

// A winner claims once from announceAt until the deadline; before it the
// result is not announced, a second claim and a late one are refused, and
// an alternate, a non-winner and a wrong phone get the erase's 404.
func TestClaimPrize(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID, phones, winner, alternate := f.drawnCampaign(t)
	var loser string
	for e := range phones {
		if e != winner && e != alternate {
			loser = e
		}
	}
	lateEvent, latePhones, lateWinner, _ := f.drawnCampaign(t)
	announce, deadline := testNow.Add(48*time.Hour), testNow.Add(48*time.Hour+7*24*time.Hour)
	tests := []struct {
		name    string
		at      time.Time
		eventID uuid.UUID
		phone   string
		entry   string
		wantErr error
	}{
		{"before_announce_is_not_announced", announce.Add(-time.Second), eventID, phones[winner], winner, domain.ErrNotAnnounced},
		{"an_alternate_is_not_found", announce, eventID, phones[alternate], alternate, domain.ErrParticipantNotFound},
		{"a_non_winner_is_not_found", announce, eventID, phones[loser], loser, domain.ErrParticipantNotFound},
		{"a_wrong_phone_is_not_found", announce, eventID, wrongPhone, winner, domain.ErrParticipantNotFound},
		{"the_winner_claims", announce, eventID, phones[winner], winner, nil},
		{"twice_is_already_claimed", announce.Add(time.Hour), eventID, phones[winner], winner, domain.ErrAlreadyClaimed},
		{"at_the_deadline_is_closed", deadline, lateEvent, latePhones[lateWinner], lateWinner, domain.ErrClaimClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			f.now.Store(&at)
			claimed, err := f.claim(tt.eventID, tt.phone, tt.entry)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !claimed.ClaimedAt.Equal(tt.at) || claimed.Delivery == "" || strings.Contains(claimed.Delivery, "테헤란로") {
				t.Fatalf("claimed = %+v, want at %s with the delivery sealed", claimed, tt.at)
			}
			check, err := f.app.Queries.CheckResult.Handle(context.Background(), commands.CheckResult{EventID: tt.eventID, Phone: tt.phone, EntryNumber: tt.entry})
			if err != nil || check.Claim == nil || check.Claim.State != domain.ClaimClaimed {
				t.Fatalf("당첨 확인 after the claim = %+v, %v; want claim state CLAIMED", check, err)
			}
		})
	}
}

// Of concurrent claims of one winner exactly one is recorded; the others
// are ALREADY_CLAIMED.
func TestConcurrentClaimsRecordOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eventID, phones, winner, _ := f.drawnCampaign(t)
	at := testNow.Add(48 * time.Hour)
	f.now.Store(&at)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = f.claim(eventID, phones[winner], winner) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, domain.ErrAlreadyClaimed):
			t.Errorf("err = %v, want nil or ErrAlreadyClaimed", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d claims recorded, want 1", ok)
	}
	stored, err := f.store.ReadStream(context.Background(), domain.ParticipantStream(claimedID(t, f, eventID, winner)))
	if err != nil {
		t.Fatal(err)
	}
	claims := 0
	for _, rec := range stored {
		if rec.Type == domain.TypePrizeClaimed {
			claims++
		}
	}
	if claims != 1 {
		t.Fatalf("%d PrizeClaimed stored, want 1", claims)
	}
}

// claimedID is the participant id of the entry, from the draw.
func claimedID(t *testing.T, f *fixture, eventID uuid.UUID, entry string) uuid.UUID {
	t.Helper()
	stored, err := f.store.ReadStream(context.Background(), domain.DrawStream(eventID))
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := e.(domain.WinnersDrawn); ok {
			for _, w := range d.Winners {
				if w.EntryNumber == entry {
					return w.ParticipantID
				}
			}
		}
	}
	t.Fatalf("no winner %s", entry)
	return uuid.Nil
}
