package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// With verification on, a registration needs the phone's live code: none,
// a wrong one, an expired one, one used up by five wrong tries, and one
// already used are refused; a registration refused for another reason
// leaves the code usable.
func TestRegistrationNeedsTheCode(t *testing.T) {
	t.Parallel()
	f, inbox := newOTPFixture(t)
	eventID := f.openCampaign(t, "owner-1")
	const phone, to = "010-1234-5678", "+821012345678"
	wrong := func(code string) string {
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}
	cases := []struct {
		name string
		// ask asks for a fresh code (after the resend limit) first.
		ask  bool
		code func(sent string) string
		// before runs after the code is sent, before the registration.
		before func(t *testing.T, sent string)
		want   error
	}{
		{name: "no_code_is_required", code: func(string) string { return "" }, want: domain.ErrVerificationRequired},
		{name: "a_code_never_sent_fails", code: func(string) string { return "123456" }, want: domain.ErrVerificationFailed},
		{name: "a_wrong_code_fails", ask: true, code: wrong, want: domain.ErrVerificationFailed},
		{name: "an_expired_code_fails", ask: true, code: func(s string) string { return s },
			before: func(*testing.T, string) { f.advance(domain.VerificationTTL) }, want: domain.ErrVerificationFailed},
		{name: "after_five_wrong_tries_the_right_code_fails", ask: true, code: func(s string) string { return s },
			before: func(t *testing.T, sent string) {
				for range domain.VerificationTries {
					if err := f.registerWith(eventID, phone, wrong(sent)); !errors.Is(err, domain.ErrVerificationFailed) {
						t.Fatalf("wrong try: %v", err)
					}
				}
			}, want: domain.ErrVerificationFailed},
		{name: "after_four_wrong_tries_the_right_code_registers", ask: true, code: func(s string) string { return s },
			before: func(t *testing.T, sent string) {
				for range domain.VerificationTries - 1 {
					if err := f.registerWith(eventID, phone, wrong(sent)); !errors.Is(err, domain.ErrVerificationFailed) {
						t.Fatalf("wrong try: %v", err)
					}
				}
			}},
		{name: "the_used_code_fails_the_next_time", code: func(string) string { return inbox.last(t, to) }, want: domain.ErrVerificationFailed},
		{name: "a_fresh_code_on_a_duplicate_is_already_participated", ask: true, code: func(s string) string { return s }, want: domain.ErrAlreadyParticipated},
		{name: "a_refused_registration_leaves_its_code_usable", code: func(string) string { return inbox.last(t, to) }, want: domain.ErrAlreadyParticipated},
	}
	for _, tc := range cases { // in order: the code's state carries over
		t.Run(tc.name, func(t *testing.T) {
			var sent string
			if tc.ask {
				f.advance(domain.VerificationResendAfter)
				if err := f.askCode(eventID, phone); err != nil {
					t.Fatal(err)
				}
				sent = inbox.last(t, to)
			}
			if tc.before != nil {
				tc.before(t, sent)
			}
			if err := f.registerWith(eventID, phone, tc.code(sent)); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// Erase and claim need the code too, and a successful one uses it up.
func TestEraseAndClaimNeedTheCode(t *testing.T) {
	t.Parallel()
	f, inbox := newOTPFixture(t)
	eventID, phones, winner, _ := f.drawnCampaignVerified(t, inbox)
	f.advance(48*time.Hour + domain.VerificationResendAfter) // the result is announced
	winnerPhone := phones[winner]
	to := domain.PhoneE164(winnerPhone)
	claim := func(code string) error {
		_, err := f.app.Commands.ClaimPrize.Handle(context.Background(), commands.ClaimPrize{EventID: eventID, Phone: winnerPhone,
			EntryNumber: winner, Delivery: validDelivery, DeliveryConsent: true, VerificationCode: code})
		return err
	}
	erase := func(code string) error {
		return f.app.Commands.EraseMyData.Handle(context.Background(), commands.EraseMyData{EventID: eventID, Phone: winnerPhone,
			EntryNumber: winner, VerificationCode: code})
	}
	if err := claim(""); !errors.Is(err, domain.ErrVerificationRequired) {
		t.Fatalf("claim without a code: %v", err)
	}
	if err := f.askCode(eventID, winnerPhone); err != nil {
		t.Fatal(err)
	}
	code := inbox.last(t, to)
	if err := claim(code); err != nil {
		t.Fatalf("claim with the code: %v", err)
	}
	if err := erase(code); !errors.Is(err, domain.ErrVerificationFailed) {
		t.Fatalf("erase with the code the claim used: %v, want VERIFICATION_FAILED", err)
	}
	if err := erase(""); !errors.Is(err, domain.ErrVerificationRequired) {
		t.Fatalf("erase without a code: %v", err)
	}
	f.advance(domain.VerificationResendAfter)
	if err := f.askCode(eventID, winnerPhone); err != nil {
		t.Fatal(err)
	}
	if err := erase(inbox.last(t, to)); err != nil {
		t.Fatalf("erase with a fresh code: %v", err)
	}
}

// drawnCampaignVerified is drawnCampaign with each registration verified.
func (f *fixture) drawnCampaignVerified(t *testing.T, inbox *phoneInbox) (eventID uuid.UUID, phones map[string]string, winner, alternate string) {
	t.Helper()
	eventID = f.openCampaign(t, "owner-1")
	phones = map[string]string{}
	for i := range 4 {
		if err := f.askCode(eventID, phoneN(i)); err != nil {
			t.Fatal(err)
		}
		reg, err := f.app.Commands.RegisterParticipant.Handle(context.Background(), commands.RegisterParticipant{
			EventID: eventID, Name: "김철수", Phone: phoneN(i), EntryPath: "instagram", PrivacyConsent: true,
			VerificationCode: inbox.last(t, domain.PhoneE164(phoneN(i))),
		})
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
