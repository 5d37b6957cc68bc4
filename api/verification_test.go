package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

const validCodeRequest = `{"eventId":"11111111-1111-4111-8111-111111111111","phone":"010-1234-5678"}`

// Each answer of POST /participations/verification, checked against the
// spec: the command's outcome mapped to its status, code and Retry-After.
func TestRequestVerificationAnswers(t *testing.T) {
	sent := commands.VerificationSent{ExpiresAt: fixedNow.Add(3 * time.Minute), ResendAt: fixedNow.Add(time.Minute)}
	cases := []struct {
		name       string
		body       string
		outcome    error
		status     int
		code       string
		retryAfter string
	}{
		{name: "sent_is_202", body: validCodeRequest, status: http.StatusAccepted},
		{name: "off_is_409_verification_off", body: validCodeRequest, outcome: domain.ErrVerificationOff, status: 409, code: "VERIFICATION_OFF"},
		{name: "before_start_is_409_event_not_open", body: validCodeRequest, outcome: domain.ErrEventNotOpen, status: 409, code: "EVENT_NOT_OPEN"},
		{name: "unknown_event_is_404", body: validCodeRequest, outcome: domain.ErrCampaignNotFound, status: 404, code: "EVENT_NOT_FOUND"},
		{name: "too_soon_is_429_with_retry_after", body: validCodeRequest, outcome: &domain.VerificationTooSoonError{RetryAfter: 42 * time.Second},
			status: 429, code: "VERIFICATION_TOO_SOON", retryAfter: "42"},
		{name: "notifier_away_is_503", body: validCodeRequest, outcome: errors.Join(commands.ErrNotifierUnavailable, errors.New("dial")), status: 503, code: "UNAVAILABLE"},
		{name: "missing_phone_is_400", body: `{"eventId":"11111111-1111-4111-8111-111111111111"}`, status: 400, code: "INVALID_REQUEST"},
		{name: "bad_event_id_is_400", body: `{"eventId":"nope","phone":"010-1234-5678"}`, status: 400, code: "INVALID_REQUEST"},
		{name: "unknown_field_is_400", body: `{"eventId":"11111111-1111-4111-8111-111111111111","phone":"010-1234-5678","code":"1"}`, status: 400, code: "INVALID_REQUEST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			h.cmds.codeFn = func(commands.RequestVerification) (commands.VerificationSent, error) { return sent, tc.outcome }
			resp := h.do(http.MethodPost, "/api/v1/participations/verification", jsonBody(tc.body))
			if tc.code == "" {
				wantStatus(t, resp, tc.status)
				got := decode[map[string]any](t, resp)
				want := map[string]any{"expiresAt": "2025-05-01T10:03:00Z", "resendAt": "2025-05-01T10:01:00Z"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				return
			}
			wantError(t, resp, tc.status, tc.code)
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
		})
	}
}

// verificationCode on registration, erase and claim: six digits or 400
// whether verification is on or not; handed to the command as given; the
// command's refusals are 400 VERIFICATION_REQUIRED / VERIFICATION_FAILED.
func TestVerificationCodeOnSelfServiceRoutes(t *testing.T) {
	routes := []struct {
		name, path, body string
		code             func(cmd any) string
	}{
		{"register", "/api/v1/participations",
			`{"eventId":"11111111-1111-4111-8111-111111111111","name":"김민수","phone":"010-1234-5678","entryPath":"instagram","privacyConsent":true%s}`,
			func(c any) string { return c.(commands.RegisterParticipant).VerificationCode }},
		{"erase", "/api/v1/participations/erase",
			`{"eventId":"11111111-1111-4111-8111-111111111111","phone":"010-1234-5678","entryNumber":"ABCD-2345"%s}`,
			func(c any) string { return c.(commands.EraseMyData).VerificationCode }},
		{"claim", "/api/v1/events/11111111-1111-4111-8111-111111111111/claims",
			`{"phone":"010-1234-5678","entryNumber":"ABCD-2345","recipientName":"김민수","postcode":"06236","address1":"서울","deliveryConsent":true%s}`,
			func(c any) string { return c.(commands.ClaimPrize).VerificationCode }},
	}
	cases := []struct {
		name    string
		field   string
		outcome error
		status  int
		code    string
	}{
		{name: "five_digits_is_400_on_the_field", field: `,"verificationCode":"12345"`, status: 400, code: "INVALID_REQUEST"},
		{name: "letters_are_400_on_the_field", field: `,"verificationCode":"12345a"`, status: 400, code: "INVALID_REQUEST"},
		{name: "missing_when_required_is_400_verification_required", outcome: domain.ErrVerificationRequired, status: 400, code: "VERIFICATION_REQUIRED"},
		{name: "wrong_is_400_verification_failed", field: `,"verificationCode":"000000"`, outcome: domain.ErrVerificationFailed, status: 400, code: "VERIFICATION_FAILED"},
	}
	for _, r := range routes {
		for _, tc := range cases {
			t.Run(r.name+"/"+tc.name, func(t *testing.T) {
				h := newHTTPHarness(t)
				h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
					return commands.Registration{}, tc.outcome
				}
				h.cmds.eraseFn = func(commands.EraseMyData) error { return tc.outcome }
				h.cmds.claimFn = func(commands.ClaimPrize) (domain.PrizeClaimed, error) { return domain.PrizeClaimed{}, tc.outcome }
				resp := h.do(http.MethodPost, r.path, jsonBody(fmt.Sprintf(r.body, tc.field)))
				body := wantError(t, resp, tc.status, tc.code)
				if !body.hasField("verificationCode") {
					t.Errorf("errors %+v name no verificationCode", body.Errors)
				}
			})
		}
		t.Run(r.name+"/six_digits_reach_the_command", func(t *testing.T) {
			h := newHTTPHarness(t)
			h.cmds.claimFn = func(commands.ClaimPrize) (domain.PrizeClaimed, error) {
				return domain.PrizeClaimed{ClaimedAt: fixedNow}, nil
			}
			resp := h.do(http.MethodPost, r.path, jsonBody(fmt.Sprintf(r.body, `,"verificationCode":"012345"`)))
			if resp.StatusCode >= 300 {
				t.Fatalf("status %d, want success", resp.StatusCode)
			}
			got := h.cmds.commandsReceived()
			if len(got) != 1 || r.code(got[0]) != "012345" {
				t.Fatalf("commands = %+v, want one with verificationCode 012345", got)
			}
		})
	}
}

// The public campaign tells the pages whether to ask for a code.
func TestPublicCampaignSaysPhoneVerification(t *testing.T) {
	for _, on := range []bool{false, true} {
		h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.PhoneVerification = on }))
		resp := h.do(http.MethodGet, "/api/v1/events/"+campaignA.String()+"/public", nil)
		wantStatus(t, resp, http.StatusOK)
		got := decode[map[string]any](t, resp)["phoneVerification"]
		if want := map[bool]string{false: "off", true: "otp"}[on]; got != want {
			t.Errorf("PhoneVerification %v: phoneVerification = %v, want %q", on, got, want)
		}
	}
}
