package notify

import (
	"context"
	"log/slog"

	"github.com/shopevents/participation/domain"
)

// Log is the adapter of the embedded mode and the default: it sends
// nothing, logs one line without the phone, and renders the message with
// the phone masked for the owner's page (Preview).
type Log struct{ logger *slog.Logger }

// NewLog returns the log adapter writing to logger.
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{logger: logger}
}

// Send logs m: its template and id, and the phone masked at most.
func (l *Log) Send(ctx context.Context, m Message) error {
	l.logger.InfoContext(ctx, "notification (log mode: not sent)", "template", m.Template,
		"message_id", m.MessageID, "to", MaskE164(m.To))
	return nil
}

// Preview is the message as it would have gone out, the phone masked.
func (l *Log) Preview(m Message) string {
	return MaskE164(m.To) + " " + Render(m.Template, m.Variables)
}

// Previewer is an adapter whose messages can be shown to the owner instead
// of being sent (the log adapter).
type Previewer interface {
	Preview(m Message) string
}

// MaskE164 masks a +8210… phone as the owner's pages show phones
// (010-****-1234); anything else is masked but for its last four characters.
func MaskE164(to string) string {
	if len(to) == 13 && to[:3] == "+82" {
		return domain.MaskPhone("0" + to[3:])
	}
	return domain.MaskPhone(to)
}
