package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Event types of the notifier's outcomes, in the participant's stream.
const (
	TypeNotificationSent   = "NotificationSent"
	TypeNotificationFailed = "NotificationFailed"
)

// ReminderLead is how long before the claim deadline an unclaimed winner
// is reminded (CLAIM_REMINDER).
const ReminderLead = 24 * time.Hour

// NotificationSent records that a message reached the provider: no phone,
// no text, only what was sent and when.
type NotificationSent struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	Template      string    `json:"template"`
	MessageID     string    `json:"messageId"`
	SentAt        time.Time `json:"sentAt"`
}

// NotificationFailed records that a message was given up: refused for good
// by the provider, or not accepted within the retry window.
type NotificationFailed struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	Template      string    `json:"template"`
	MessageID     string    `json:"messageId"`
	Reason        string    `json:"reason"`
	FailedAt      time.Time `json:"failedAt"`
}

func (NotificationSent) EventType() string   { return TypeNotificationSent }
func (NotificationFailed) EventType() string { return TypeNotificationFailed }

func (e NotificationSent) StreamID() string   { return ParticipantStream(e.ParticipantID) }
func (e NotificationFailed) StreamID() string { return ParticipantStream(e.ParticipantID) }

// NotificationMessageID is a message's stable id, the provider's dedup key:
// the same draw, participant, template and replacement always give the
// same id, whoever computes it and however often. replacement is empty for
// a drawn winner (a promoted alternate's message names its replacement).
func NotificationMessageID(drawID, participantID uuid.UUID, template, replacement string) string {
	h := sha256.New()
	// fixed-width ids first, then the two strings NUL-separated: unambiguous
	h.Write(drawID[:])
	h.Write(participantID[:])
	h.Write([]byte(template + "\x00" + replacement))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// NotificationWireID is the id of a message's attempt family member: the
// first is the message id itself, a resend after a failure for good gets a
// suffix, so the provider (which dropped nothing of the refused one) takes it.
func NotificationWireID(messageID string, resend int) string {
	if resend == 0 {
		return messageID
	}
	return fmt.Sprintf("%s-r%d", messageID, resend)
}

// WinnerMessageDue is when a winner is told: at announceAt, or at once
// (drawnAt) when the draw came after it.
func WinnerMessageDue(announceAt, drawnAt time.Time) time.Time {
	if drawnAt.After(announceAt) {
		return drawnAt
	}
	return announceAt
}
