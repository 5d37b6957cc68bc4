package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/notify"
)

// phoneInbox is a Notifier of the port that keeps what it is given, or
// refuses while fail is set.
type phoneInbox struct {
	mu   sync.Mutex
	sent []notify.Message
	fail error
}

func (p *phoneInbox) Send(_ context.Context, m notify.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.sent = append(p.sent, m)
	return nil
}

// last is the code of the last message to phone (E.164), or "".
func (p *phoneInbox) last(t *testing.T, to string) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.sent) - 1; i >= 0; i-- {
		if p.sent[i].To == to {
			return p.sent[i].Variables["code"]
		}
	}
	t.Fatalf("no message to %s", to)
	return ""
}

// newOTPFixture is newFixture with PHONE_VERIFICATION=otp and an inbox.
func newOTPFixture(t *testing.T) (*fixture, *phoneInbox) {
	t.Helper()
	pool := testenv.Pool(t, 20)
	if err := eventstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: eventstore.New(pool)}
	now := testNow
	f.now.Store(&now)
	inbox := &phoneInbox{}
	var err error
	f.app, err = commands.New(f.store, commands.Config{
		PIIKey: []byte("test-pii-key-0123456789abcdef"),
		Clock:  func() time.Time { return *f.now.Load() },

		PhoneVerification: true, Notifier: inbox,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, inbox
}

func (f *fixture) askCode(eventID uuid.UUID, phone string) error {
	_, err := f.app.Commands.RequestVerification.Handle(context.Background(), commands.RequestVerification{EventID: eventID, Phone: phone})
	return err
}

func (f *fixture) registerWith(eventID uuid.UUID, phone, code string) error {
	_, err := f.app.Commands.RegisterParticipant.Handle(context.Background(), commands.RegisterParticipant{
		EventID: eventID, Name: "김철수", Phone: phone, EntryPath: "instagram", PrivacyConsent: true, VerificationCode: code,
	})
	return err
}

// Asking for a code: the message, the resend limit per phone and
// campaign, the campaign's state, and verification off.
func TestRequestVerification(t *testing.T) {
	t.Parallel()
	f, inbox := newOTPFixture(t)
	eventID, other := f.openCampaign(t, "owner-1"), f.openCampaign(t, "owner-1")
	off := newFixture(t)
	offEvent := off.openCampaign(t, "owner-1")

	if err := f.askCode(eventID, "010 1234 5678"); err != nil {
		t.Fatal(err)
	}
	m := inbox.sent[0]
	if m.Template != notify.TemplateOTP || m.To != "+821012345678" || !domain.ValidVerificationCode(m.Variables["code"]) ||
		m.Variables["title"] != "오픈 기념 이벤트" || m.MessageID == "" {
		t.Fatalf("message = %+v", m)
	}
	cases := []struct {
		name      string
		fixture   *fixture
		event     uuid.UUID
		phone     string
		advance   time.Duration
		want      error
		wantAfter time.Duration // of a VerificationTooSoonError
	}{
		{name: "again_at_once_is_too_soon", event: eventID, phone: "01012345678", want: &domain.VerificationTooSoonError{}, wantAfter: time.Minute},
		{name: "again_after_59s_is_too_soon_by_1s", event: eventID, phone: "010-1234-5678", advance: 59 * time.Second, want: &domain.VerificationTooSoonError{}, wantAfter: time.Second},
		{name: "another_phone_is_sent", event: eventID, phone: "010-1234-5679"},
		{name: "the_phone_in_another_campaign_is_sent", event: other, phone: "010-1234-5678"},
		{name: "again_after_60s_is_sent", event: eventID, phone: "010-1234-5678", advance: time.Second},
		{name: "unknown_campaign_is_not_found", event: uuid.New(), phone: "010-1234-5678", want: domain.ErrCampaignNotFound},
		{name: "bad_phone_is_invalid", event: eventID, phone: "011-1234-5678", want: domain.ErrInvalid},
		{name: "before_the_start_is_not_open", event: eventID, phone: "010-3333-0000", advance: -3 * time.Hour, want: domain.ErrEventNotOpen},
		{name: "after_the_end_is_sent_for_erase_and_claim", event: eventID, phone: "010-3333-0001", advance: 3*time.Hour + 72*time.Hour},
		{name: "verification_off_is_refused", fixture: off, event: offEvent, phone: "010-1234-5678", want: domain.ErrVerificationOff},
	}
	for _, tc := range cases { // in order: the resend limit depends on the earlier codes
		t.Run(tc.name, func(t *testing.T) {
			fx := f
			if tc.fixture != nil {
				fx = tc.fixture
			}
			fx.advance(tc.advance)
			err := fx.askCode(tc.event, tc.phone)
			var soon *domain.VerificationTooSoonError
			switch {
			case tc.wantAfter != 0:
				if !errors.As(err, &soon) || soon.RetryAfter != tc.wantAfter {
					t.Fatalf("err = %v, want too soon by %s", err, tc.wantAfter)
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if got := len(inbox.sent); got != 5 {
		t.Fatalf("messages sent = %d, want 5", got)
	}
}

// A code that could not be sent is withdrawn: asking again is not too soon.
func TestRequestVerificationNotSentIsWithdrawn(t *testing.T) {
	t.Parallel()
	f, inbox := newOTPFixture(t)
	eventID := f.openCampaign(t, "owner-1")
	inbox.fail = errors.New("provider away")
	if err := f.askCode(eventID, "010-1234-5678"); !errors.Is(err, commands.ErrNotifierUnavailable) {
		t.Fatalf("err = %v, want ErrNotifierUnavailable", err)
	}
	inbox.fail = nil
	if err := f.askCode(eventID, "010-1234-5678"); err != nil {
		t.Fatalf("asking again after a failed send: %v", err)
	}
}

// Concurrent requests for one phone's code send one message; concurrent
// wrong tries each count, so the right code is refused after them.
func TestVerificationUnderConcurrency(t *testing.T) {
	t.Parallel()
	f, inbox := newOTPFixture(t)
	eventID := f.openCampaign(t, "owner-1")
	const phone = "010-5555-0001"
	errs := make([]error, 20)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = f.askCode(eventID, phone) })
	}
	wg.Wait()
	sent := 0
	for _, err := range errs {
		var soon *domain.VerificationTooSoonError
		switch {
		case err == nil:
			sent++
		case !errors.As(err, &soon):
			t.Fatalf("ask: %v", err)
		}
	}
	if sent != 1 || len(inbox.sent) != 1 {
		t.Fatalf("codes issued = %d, messages = %d, want 1 and 1", sent, len(inbox.sent))
	}
	code := inbox.last(t, domain.PhoneE164(phone))
	wrong := "000000"
	if code == wrong {
		wrong = "999999"
	}
	for range 2 * domain.VerificationTries {
		wg.Go(func() {
			if err := f.registerWith(eventID, phone, wrong); !errors.Is(err, domain.ErrVerificationFailed) {
				t.Errorf("wrong try: %v", err)
			}
		})
	}
	wg.Wait()
	if err := f.registerWith(eventID, phone, code); !errors.Is(err, domain.ErrVerificationFailed) {
		t.Fatalf("the right code after %d concurrent wrong tries: %v, want VERIFICATION_FAILED", 2*domain.VerificationTries, err)
	}
}
