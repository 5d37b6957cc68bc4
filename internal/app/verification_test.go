package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/notify"
)

// phoneInbox is a Notifier of the port that keeps the messages it is
// given: the codes reach the tests through it.
type phoneInbox struct {
	mu   sync.Mutex
	sent []notify.Message
}

func (p *phoneInbox) Send(_ context.Context, m notify.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m)
	return nil
}

// code is the code of the last message to the phone, given as 010-....
func (p *phoneInbox) code(t testing.TB, phone string) string {
	t.Helper()
	to := "+82" + strings.TrimPrefix(strings.ReplaceAll(phone, "-", ""), "0")
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.sent) - 1; i >= 0; i-- {
		if m := p.sent[i]; m.To == to && m.Template == notify.TemplateOTP {
			return m.Variables["code"]
		}
	}
	t.Fatalf("no code sent to %s", phone)
	return ""
}

func (p *phoneInbox) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

// otpApp is the service with PHONE_VERIFICATION=otp, a movable clock and
// an inbox.
func otpApp(t *testing.T) (*testApp, *movableClock, *phoneInbox) {
	t.Helper()
	clock := &movableClock{}
	clock.set(time.Now())
	inbox := &phoneInbox{}
	return newTestAppWith(t, appSetup{Clock: clock.now, PhoneVerification: true, Notifier: inbox}), clock, inbox
}

func (a *testApp) askCode(eventID uuid.UUID, phone string) answer {
	a.t.Helper()
	return a.call(http.MethodPost, "/api/v1/participations/verification", "", map[string]any{"eventId": eventID.String(), "phone": phone})
}

func withCode(body map[string]any, code string) map[string]any {
	if code != "" {
		body["verificationCode"] = code
	}
	return body
}

// End to end on PostgreSQL with the injected clock: a registration without
// a code is refused; a wrong, an expired, a used-up and a used code fail;
// the resend limit answers 429 with Retry-After; the right code registers
// once; nothing of the phone or the code is in the logs or the table.
func TestPhoneVerificationEndToEnd(t *testing.T) {
	t.Parallel()
	a, clock, inbox := otpApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	const phone = "010-4321-8765"
	register := func(t *testing.T, code string) answer {
		return a.in(t).call(http.MethodPost, "/api/v1/participations", "", withCode(registrationBody(eventID, "김인증", phone, "KAKAO"), code))
	}
	wrong := func(code string) string {
		if code == "111111" {
			return "222222"
		}
		return "111111"
	}
	steps := []struct {
		name       string
		do         func(t *testing.T) answer
		status     int
		code       string
		retryAfter string
	}{
		{"registration_without_a_code_is_verification_required", func(t *testing.T) answer { return register(t, "") }, 400, "VERIFICATION_REQUIRED", ""},
		{"a_code_never_sent_fails", func(t *testing.T) answer { return register(t, "123456") }, 400, "VERIFICATION_FAILED", ""},
		{"asking_sends_a_code", func(t *testing.T) answer { return a.in(t).askCode(eventID, phone) }, 202, "", ""},
		{"asking_again_at_once_is_429_for_60s", func(t *testing.T) answer { return a.in(t).askCode(eventID, "01043218765") }, 429, "VERIFICATION_TOO_SOON", "60"},
		{"asking_again_after_45s_is_429_for_15s", func(t *testing.T) answer {
			clock.set(clock.now().Add(45 * time.Second))
			return a.in(t).askCode(eventID, phone)
		}, 429, "VERIFICATION_TOO_SOON", "15"},
		{"a_wrong_code_fails", func(t *testing.T) answer { return register(t, wrong(inbox.code(t, phone))) }, 400, "VERIFICATION_FAILED", ""},
		{"the_right_code_expired_after_3_minutes_fails", func(t *testing.T) answer {
			clock.set(clock.now().Add(3*time.Minute - 45*time.Second))
			return register(t, inbox.code(t, phone))
		}, 400, "VERIFICATION_FAILED", ""},
		{"a_new_code_after_the_minute", func(t *testing.T) answer { return a.in(t).askCode(eventID, phone) }, 202, "", ""},
		{"four_wrong_tries_fail", func(t *testing.T) answer {
			for range 3 {
				if ans := register(t, wrong(inbox.code(t, phone))); errorOf(ans).Code != "VERIFICATION_FAILED" {
					t.Fatalf("wrong try → %d %s", ans.Status, ans.Body)
				}
			}
			return register(t, wrong(inbox.code(t, phone)))
		}, 400, "VERIFICATION_FAILED", ""},
		{"the_fifth_wrong_try_uses_it_up", func(t *testing.T) answer { return register(t, wrong(inbox.code(t, phone))) }, 400, "VERIFICATION_FAILED", ""},
		{"then_the_right_code_fails_too", func(t *testing.T) answer { return register(t, inbox.code(t, phone)) }, 400, "VERIFICATION_FAILED", ""},
		{"a_fresh_code_registers", func(t *testing.T) answer {
			clock.set(clock.now().Add(time.Minute))
			if ans := a.in(t).askCode(eventID, phone); ans.Status != http.StatusAccepted {
				t.Fatalf("ask → %d %s", ans.Status, ans.Body)
			}
			return register(t, inbox.code(t, phone))
		}, 201, "", ""},
		{"the_used_code_fails", func(t *testing.T) answer { return register(t, inbox.code(t, phone)) }, 400, "VERIFICATION_FAILED", ""},
	}
	for _, s := range steps { // in order: the code's state carries over
		t.Run(s.name, func(t *testing.T) {
			ans := s.do(t)
			if ans.Status != s.status || (s.code != "" && errorOf(ans).Code != s.code) {
				t.Fatalf("→ %d %s, want %d %s", ans.Status, ans.Body, s.status, s.code)
			}
			if got := ans.Header.Get("Retry-After"); got != s.retryAfter {
				t.Fatalf("Retry-After = %q, want %q", got, s.retryAfter)
			}
		})
	}
	if got := a.eventsOfType("ParticipantRegistered", eventID); got != 1 {
		t.Fatalf("registrations stored = %d, want 1", got)
	}
	codes := []string{}
	for _, m := range inbox.sent {
		codes = append(codes, m.Variables["code"])
	}
	logs := a.logs.String()
	for _, secret := range append(codes, phone, "01043218765", "4321-8765", "+821043218765") {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs carry %q", secret)
		}
	}
	var rows int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM phone_verifications
		WHERE position(convert_to($1, 'UTF8') in subject || code_mac) > 0 OR position(convert_to($2, 'UTF8') in subject || code_mac) > 0`,
		phone, codes[len(codes)-1]).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("phone_verifications rows holding the phone or the code: %d, %v", rows, err)
	}
}

// With verification off (the default) the public campaign says so, asking
// for a code is 409 VERIFICATION_OFF, and a registration needs none (a
// six-digit code is ignored).
func TestPhoneVerificationOff(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	public := decode[struct {
		PhoneVerification string `json:"phoneVerification"`
	}](t, a.call(http.MethodGet, "/api/v1/events/"+eventID.String()+"/public", "", nil))
	if public.PhoneVerification != "off" {
		t.Fatalf("phoneVerification = %q, want off", public.PhoneVerification)
	}
	if ans := a.askCode(eventID, "010-1111-2222"); ans.Status != http.StatusConflict || errorOf(ans).Code != "VERIFICATION_OFF" {
		t.Fatalf("ask → %d %s, want 409 VERIFICATION_OFF", ans.Status, ans.Body)
	}
	if ans := a.call(http.MethodPost, "/api/v1/participations", "", withCode(registrationBody(eventID, "김해제", "010-1111-2222", "KAKAO"), "123456")); ans.Status != http.StatusCreated {
		t.Fatalf("register → %d %s, want 201", ans.Status, ans.Body)
	}
}
