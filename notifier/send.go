package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/backoff"
	"github.com/shopevents/participation/notify"
)

// SendTimeout bounds one attempt, the adapter's own timeout included.
const SendTimeout = 15 * time.Second

// sendLoop sends what is due every Every until ctx ends.
func (n *Notifier) sendLoop(ctx context.Context) {
	tick := time.NewTicker(n.cfg.Every)
	defer tick.Stop()
	for {
		for {
			sent, err := n.SendDue(ctx)
			if err != nil && ctx.Err() == nil {
				n.cfg.Logger.Warn("notifier: send failed; will retry", "error", err)
			}
			if err != nil || !sent {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// due is a claimed outbox row.
type due struct {
	messageID   string
	eventID     uuid.UUID
	participant uuid.UUID
	template    string
	vars        map[string]string
	expires     time.Time
	resend      int
	attempts    int
	first       *time.Time
}

// SendDue claims one due message and attempts it: false when none is due.
// The row stays locked while the provider is called, so no other sender
// takes it; a sender killed mid-send leaves it PENDING, and the next one
// sends it again with the same messageId (the provider drops the repeat).
func (n *Notifier) SendDue(ctx context.Context) (bool, error) {
	tx, err := n.cfg.Pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	now := n.cfg.Clock()
	var d due
	var vars []byte
	err = tx.QueryRow(ctx, `SELECT message_id, event_id, participant_id, template, variables, expires_at,
			resend, attempts, first_attempt_at
		FROM notification_outbox WHERE state = 'PENDING' AND next_attempt_at <= $1
		ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED`, now).
		Scan(&d.messageID, &d.eventID, &d.participant, &d.template, &vars, &d.expires, &d.resend, &d.attempts, &d.first)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(vars, &d.vars); err != nil {
		return false, err
	}
	if err := n.attempt(ctx, tx, d, now); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// attempt decides, sends and records the outcome in tx (the row) and in
// the participant's stream (the event).
func (n *Notifier) attempt(ctx context.Context, tx pgx.Tx, d due, now time.Time) error {
	wire := domain.NotificationWireID(d.messageID, d.resend)
	to, skip, err := n.recipient(ctx, d, now)
	if err != nil {
		return err
	}
	if skip != "" {
		n.outcome.WithLabelValues(d.template, OutcomeSkipped).Inc()
		return setOutcome(ctx, tx, d.messageID, "SKIPPED", skip, "", now)
	}
	msg := notify.Message{MessageID: wire, Template: d.template, To: to, Variables: d.vars}
	sendCtx, cancel := context.WithTimeout(ctx, SendTimeout)
	sendErr := n.cfg.Sender.Send(sendCtx, msg)
	cancel()
	if sendErr == nil {
		var preview string
		if p, ok := n.cfg.Sender.(notify.Previewer); ok {
			preview = p.Preview(msg)
		}
		if err := n.record(ctx, d, domain.NotificationSent{ParticipantID: d.participant, EventID: d.eventID,
			Template: d.template, MessageID: wire, SentAt: now}); err != nil {
			return err
		}
		n.outcome.WithLabelValues(d.template, OutcomeSent).Inc()
		return setOutcome(ctx, tx, d.messageID, "SENT", "", preview, now)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopping: the row stays as it was
	}
	first := now
	if d.first != nil {
		first = *d.first
	}
	permanent := errors.Is(sendErr, notify.ErrPermanent)
	if !permanent && now.Sub(first) < n.cfg.RetryFor {
		n.outcome.WithLabelValues(d.template, OutcomeRetry).Inc()
		n.cfg.Logger.Info("notifier: attempt failed; will retry", "message_id", wire, "template", d.template,
			"attempt", d.attempts+1, "error", sendErr)
		_, err := tx.Exec(ctx, `UPDATE notification_outbox SET attempts = attempts + 1,
			first_attempt_at = $2, next_attempt_at = $3, reason = $4 WHERE message_id = $1`,
			d.messageID, first, now.Add(backoff.Delay(n.cfg.RetryBase, n.cfg.RetryMax, d.attempts+1)), reason(sendErr))
		return err
	}
	why := reason(sendErr)
	if !permanent {
		why = "not delivered within " + n.cfg.RetryFor.String() + ": " + why
	}
	if err := n.record(ctx, d, domain.NotificationFailed{ParticipantID: d.participant, EventID: d.eventID,
		Template: d.template, MessageID: wire, Reason: why, FailedAt: now}); err != nil {
		return err
	}
	n.outcome.WithLabelValues(d.template, OutcomeFailed).Inc()
	n.cfg.Logger.Warn("notifier: message failed", "message_id", wire, "template", d.template, "reason", why)
	return setOutcome(ctx, tx, d.messageID, "FAILED", why, "", now)
}

// recipient opens the phone, or says why nothing is sent: the participant
// erased (the data key gone), the prize claimed (a reminder), the claim
// closed.
func (n *Notifier) recipient(ctx context.Context, d due, now time.Time) (to, skip string, err error) {
	if !now.Before(d.expires) {
		return "", "CLAIM_CLOSED", nil
	}
	stored, err := n.cfg.Store.ReadStream(ctx, domain.ParticipantStream(d.participant))
	if err != nil {
		return "", "", fmt.Errorf("notifier: participant: %w", err)
	}
	var reg *domain.ParticipantRegistered
	for _, rec := range stored {
		ev, err := domain.DecodeStored(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			continue
		}
		switch e := ev.(type) {
		case domain.ParticipantRegistered:
			reg = &e
		case domain.ParticipantErased:
			return "", "ERASED", nil
		case domain.PrizeClaimed:
			if d.template == notify.TemplateClaimReminder {
				return "", "CLAIMED", nil
			}
		}
	}
	if reg == nil {
		return "", "ERASED", nil
	}
	keys, err := n.cfg.Store.SubjectKeys(ctx, []uuid.UUID{d.participant})
	if err != nil {
		return "", "", fmt.Errorf("notifier: data key: %w", err)
	}
	pd, err := n.cfg.Keys.OpenRegistration(*reg, keys[d.participant])
	if err != nil {
		return "", "", fmt.Errorf("notifier: open: %w", err)
	}
	if pd.Phone == "" {
		return "", "ERASED", nil // the key is gone: erased, its event not read yet
	}
	phone, err := domain.NormalizePhone(pd.Phone)
	if err != nil {
		return "", "INVALID_PHONE", nil
	}
	return domain.PhoneE164(phone), "", nil
}

// notificationNS derives the outcome events' ids from the wire id: a
// sender that recorded an outcome and died before its row was updated
// records the same event again, which the store refuses as a duplicate.
var notificationNS = uuid.MustParse("5b0c8a51-3c2e-4f37-9a0e-0f6e9cf1b7a4")

func (n *Notifier) record(ctx context.Context, d due, ev domain.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var wire string
	switch e := ev.(type) {
	case domain.NotificationSent:
		wire = e.MessageID
	case domain.NotificationFailed:
		wire = e.MessageID
	}
	_, err = n.cfg.Store.Append(ctx, ev.StreamID(), eventstore.Any, eventstore.EventData{
		ID:           uuid.NewSHA1(notificationNS, []byte(ev.EventType()+"|"+wire)),
		PartitionKey: d.eventID.String(), Type: ev.EventType(), SchemaVersion: domain.SchemaVersion, Data: data,
		Metadata: eventstore.Metadata{Actor: "notifier", CorrelationID: d.messageID},
	})
	if errors.Is(err, eventstore.ErrDuplicateEventID) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notifier: record %s: %w", ev.EventType(), err)
	}
	return nil
}

func setOutcome(ctx context.Context, tx pgx.Tx, messageID, state, why, preview string, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE notification_outbox SET state = $2, reason = NULLIF($3, ''),
		preview = COALESCE(NULLIF($4, ''), preview), outcome_at = $5, attempts = attempts + 1 WHERE message_id = $1`,
		messageID, state, why, preview, at)
	return err
}

// reason is an error's text for the owner and the event, bounded; the
// adapters' errors name a status or a transport failure, never the phone.
func reason(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
