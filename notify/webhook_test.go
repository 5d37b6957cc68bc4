package notify_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/notify"
)

var secret = []byte("webhook-secret-webhook-secret-0123456789")

// The webhook's answer mapping: 2xx delivered, 4xx but 408 and 429 refused
// for good, the rest (and a receiver that is gone) worth a retry; the body
// is the contract's and its signature verifies under the secret only.
func TestWebhookSend(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		wantErr   bool
		permanent bool
	}{
		{"200_is_delivered", http.StatusOK, false, false},
		{"202_is_delivered", http.StatusAccepted, false, false},
		{"400_is_refused_for_good", http.StatusBadRequest, true, true},
		{"404_is_refused_for_good", http.StatusNotFound, true, true},
		{"408_is_retried", http.StatusRequestTimeout, true, false},
		{"429_is_retried", http.StatusTooManyRequests, true, false},
		{"500_is_retried", http.StatusInternalServerError, true, false},
		{"503_is_retried", http.StatusServiceUnavailable, true, false},
		{"302_is_retried", http.StatusFound, true, false},
	}
	at := time.Unix(1_800_000_000, 0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var raw []byte
			var sig string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, _ = io.ReadAll(r.Body)
				sig = r.Header.Get(notify.SignatureHeader)
				if tc.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere") // not followed into a 200
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			hook, err := notify.NewWebhook(srv.URL, secret, func() time.Time { return at })
			if err != nil {
				t.Fatal(err)
			}
			err = hook.Send(t.Context(), notify.Message{MessageID: "m1", Template: notify.TemplateWinner,
				To: "+821012345678", Variables: map[string]string{"title": "이벤트"}})
			if (err != nil) != tc.wantErr || errors.Is(err, notify.ErrPermanent) != tc.permanent {
				t.Fatalf("Send → %v, want error %v, permanent %v", err, tc.wantErr, tc.permanent)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %s: %v", raw, err)
			}
			if body["messageId"] != "m1" || body["template"] != "WINNER" || body["to"] != "+821012345678" ||
				body["variables"].(map[string]any)["title"] != "이벤트" || len(body) != 4 {
				t.Errorf("body %s", raw)
			}
			if !strings.HasPrefix(sig, "t=1800000000,v1=") {
				t.Errorf("signature %q", sig)
			}
			if err := notify.VerifySignature(secret, sig, raw, at, 5*time.Minute); err != nil {
				t.Errorf("the signature does not verify: %v", err)
			}
			if err := notify.VerifySignature([]byte("another-secret-another-secret-01234567"), sig, raw, at, 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
				t.Errorf("a wrong secret verifies: %v", err)
			}
			if err := notify.VerifySignature(secret, sig, append(raw, ' '), at, 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
				t.Errorf("an altered body verifies: %v", err)
			}
			if err := notify.VerifySignature(secret, sig, raw, at.Add(time.Hour), 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
				t.Errorf("an hour-old signature verifies: %v", err)
			}
		})
	}
}

func TestWebhookReceiverGoneIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	hook, err := notify.NewWebhook(url, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := hook.Send(t.Context(), notify.Message{MessageID: "m", To: "+821012345678"}); err == nil || errors.Is(err, notify.ErrPermanent) || strings.Contains(err.Error(), "12345678") {
		t.Fatalf("Send to a closed port → %v, want a retryable error without the phone", err)
	}
}

func TestNewWebhookChecksItsConfig(t *testing.T) {
	for _, url := range []string{"", "/hook", "ftp://x/hook", "http://"} {
		if _, err := notify.NewWebhook(url, secret, nil); err == nil {
			t.Errorf("NewWebhook(%q) accepted", url)
		}
	}
	if _, err := notify.NewWebhook("https://x.example/hook", nil, nil); err == nil {
		t.Error("NewWebhook without a secret accepted")
	}
}

// The log adapter keeps the phone out of its line and masks it in the preview.
func TestLogAdapterMasksThePhone(t *testing.T) {
	var buf strings.Builder
	l := notify.NewLog(slogTo(&buf))
	m := notify.Message{MessageID: "m", Template: notify.TemplateWinner, To: "+821012345678",
		Variables: map[string]string{"title": "봄 이벤트", "rank": "1", "deadline": "2026-12-14 18:00", "claimUrl": "https://x/p/e/result"}}
	if err := l.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "12345678") || !strings.Contains(buf.String(), "010-****-5678") {
		t.Errorf("log line %q", buf.String())
	}
	p := l.Preview(m)
	if !strings.HasPrefix(p, "010-****-5678 [봄 이벤트] 축하합니다! 1등에 당첨되셨습니다.") || strings.Contains(p, "#{") {
		t.Errorf("preview %q", p)
	}
}
