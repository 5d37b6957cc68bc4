package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
)

// Status is what the owner sees of a winner's latest message.
type Status struct {
	State    string // PENDING, SENT or FAILED
	Template string
	At       time.Time // the outcome's time; the due time while PENDING
	Reason   string    // FAILED: why
	Preview  string    // the log adapter's rendering, the phone masked
}

// Statuses are the campaign's winners' latest messages by entry number: of
// those due by now, the last; skipped ones (erased, claimed) count as none.
func Statuses(ctx context.Context, pool *pgxpool.Pool, eventID uuid.UUID, now time.Time) (map[string]Status, error) {
	rows, err := pool.Query(ctx, `SELECT DISTINCT ON (entry_number) entry_number, state, template,
			coalesce(outcome_at, due_at), coalesce(reason, ''), coalesce(preview, '')
		FROM notification_outbox WHERE event_id = $1 AND state <> 'SKIPPED' AND (due_at <= $2 OR state <> 'PENDING')
		ORDER BY entry_number, due_at DESC`, eventID, now)
	if err != nil {
		return nil, fmt.Errorf("notification statuses: %w", err)
	}
	defer rows.Close()
	out := map[string]Status{}
	for rows.Next() {
		var entry string
		var s Status
		if err := rows.Scan(&entry, &s.State, &s.Template, &s.At, &s.Reason, &s.Preview); err != nil {
			return nil, fmt.Errorf("notification statuses: %w", err)
		}
		out[entry] = s
	}
	return out, rows.Err()
}

// ErrNotFailed is a resend of a winner with no message failed for good.
var ErrNotFailed = errors.New("notifier: no failed message to resend")

// Resend queues a winner's failed messages again, due now: the same
// message, a new attempt under the next wire id of its family
// (messageId-rN). A message that has not failed is left alone (ErrNotFailed).
func Resend(ctx context.Context, pool *pgxpool.Pool, eventID uuid.UUID, entryNumber string, now time.Time) (string, error) {
	var messageID string
	var resend int
	err := pool.QueryRow(ctx, `UPDATE notification_outbox SET state = 'PENDING', resend = resend + 1,
			attempts = 0, first_attempt_at = NULL, next_attempt_at = $3, reason = NULL, outcome_at = NULL
		WHERE message_id = (SELECT message_id FROM notification_outbox
			WHERE event_id = $1 AND entry_number = $2 AND state = 'FAILED' ORDER BY due_at DESC LIMIT 1)
		AND state = 'FAILED'
		RETURNING message_id, resend`, eventID, entryNumber, now).Scan(&messageID, &resend)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFailed
	}
	if err != nil {
		return "", fmt.Errorf("resend: %w", err)
	}
	return domain.NotificationWireID(messageID, resend), nil
}
