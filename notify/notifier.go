// Package notify sends messages to phones: the Notifier port and its
// adapters (webhook to a 알림톡/SMS provider, log for local use).
package notify

import (
	"context"
	"errors"
)

// Templates of the messages the service sends (DESIGN: Messages to phones).
const (
	TemplateWinner        = "WINNER"
	TemplateClaimReminder = "CLAIM_REMINDER"
	TemplateOTP           = "OTP"
)

// Message is one message to one phone. MessageID is stable across the
// retries of one message, so the provider drops duplicates by it.
type Message struct {
	MessageID string
	Template  string
	// To is the phone in E.164 (+821012345678): opened only to send.
	To        string
	Variables map[string]string
}

// Notifier delivers a message. An error wrapping ErrPermanent will not
// succeed on a retry (the provider refused it); any other error may.
type Notifier interface {
	Send(ctx context.Context, m Message) error
}

// ErrPermanent marks a refusal that no retry can turn into a delivery.
var ErrPermanent = errors.New("refused for good")
