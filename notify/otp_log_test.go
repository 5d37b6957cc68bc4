package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/shopevents/participation/notify"
)

// The log stand-in writes the message's template, id and variables, never
// the phone it is for.
func TestOTPLogNeverLogsThePhone(t *testing.T) {
	var buf bytes.Buffer
	n := notify.NewOTPLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	err := n.Send(context.Background(), notify.Message{MessageID: "otp-1", Template: notify.TemplateOTP,
		To: "+821012345678", Variables: map[string]string{"code": "123456", "title": "오픈 이벤트"}})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"otp-1", "OTP", "123456", "오픈 이벤트"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q: %s", want, out)
		}
	}
	for _, phone := range []string{"+821012345678", "1012345678", "1234-5678"} {
		if strings.Contains(out, phone) {
			t.Errorf("the log carries the phone %q: %s", phone, out)
		}
	}
}
