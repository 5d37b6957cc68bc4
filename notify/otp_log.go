package notify

import (
	"context"
	"log/slog"
)

// OTPLog sends phone verification's codes when no webhook is configured:
// unlike Log it writes the message's variables (the code) to the log, never
// the phone, so that a code can be read off the console in the embedded
// mode. It must not front real customers: anyone with the logs has every code.
type OTPLog struct{ logger *slog.Logger }

// NewOTPLog returns the log stand-in over logger.
func NewOTPLog(logger *slog.Logger) *OTPLog { return &OTPLog{logger: logger} }

// Send logs m without m.To.
func (l *OTPLog) Send(ctx context.Context, m Message) error {
	attrs := []slog.Attr{slog.String("message_id", m.MessageID), slog.String("template", m.Template)}
	for k, v := range m.Variables {
		attrs = append(attrs, slog.String("var_"+k, v))
	}
	l.logger.LogAttrs(ctx, slog.LevelInfo, "message not sent: the log notifier", attrs...)
	return nil
}
