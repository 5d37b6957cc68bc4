package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// Notifications is the notifier's outbox as the owner sees it (package
// notifier, adapted by the wiring).
type Notifications interface {
	// Statuses are the winners' latest messages by entry number; a winner
	// without one due yet is absent.
	Statuses(ctx context.Context, eventID uuid.UUID) (map[string]NotificationStatus, error)
	// Resend queues a winner's failed message again (a new attempt of the
	// same message); ErrNotificationNotFailed when none failed.
	Resend(ctx context.Context, eventID uuid.UUID, entryNumber string) (NotificationStatus, error)
}

// NotificationStatus is a winner's latest message.
type NotificationStatus struct {
	State    string // PENDING, SENT, FAILED
	Template string
	At       time.Time
	// Preview is the message as it would have gone out, the phone masked
	// (the log adapter only: nothing is sent).
	Preview string
}

// ErrNotificationNotFailed is a resend for a winner whose message has not failed.
var ErrNotificationNotFailed = errors.New("no failed message to resend")

type notificationJSON struct {
	State    string    `json:"state"`
	Template string    `json:"template"`
	At       time.Time `json:"at"`
	Preview  string    `json:"preview,omitempty"`
}

func notificationOf(s NotificationStatus) *notificationJSON {
	return &notificationJSON{State: s.State, Template: s.Template, At: s.At.UTC(), Preview: s.Preview}
}

// resendNotification queues a winner's failed message again: 202 with the
// message PENDING, 409 NOTIFICATION_NOT_FAILED when there is none to resend.
func (s *server) resendNotification(c *gin.Context) {
	eventID, entryNumber, ok := s.participantParams(c)
	if !ok {
		return
	}
	if s.cfg.Notifications == nil {
		s.writeError(c, errUnavailable)
		return
	}
	st, err := s.cfg.Notifications.Resend(c.Request.Context(), eventID, entryNumber)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, notificationOf(st))
}
