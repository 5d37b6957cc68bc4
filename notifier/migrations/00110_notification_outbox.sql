-- +goose Up
-- The notifier's outbox: one row per message (messageId, a hash of draw,
-- participant, template and replacement), filled from the topic by the
-- notifier's consumer group and claimed by its senders with
-- FOR UPDATE SKIP LOCKED. No phone and no text: the phone is opened from
-- the store only to send.
CREATE TABLE notification_outbox (
    message_id       text        PRIMARY KEY,
    event_id         uuid        NOT NULL,
    participant_id   uuid        NOT NULL,
    entry_number     text        NOT NULL,
    template         text        NOT NULL,
    variables        jsonb       NOT NULL,
    due_at           timestamptz NOT NULL,
    -- the claim deadline: nothing is sent from then on
    expires_at       timestamptz NOT NULL,
    state            text        NOT NULL DEFAULT 'PENDING'
                     CHECK (state IN ('PENDING', 'SENT', 'FAILED', 'SKIPPED')),
    -- resends after a failure for good: the wire id gets -rN (same family)
    resend           int         NOT NULL DEFAULT 0,
    attempts         int         NOT NULL DEFAULT 0,
    first_attempt_at timestamptz,
    next_attempt_at  timestamptz NOT NULL,
    reason           text,
    -- the log adapter's rendering, the phone masked (the owner's page)
    preview          text,
    outcome_at       timestamptz
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE state = 'PENDING';
CREATE INDEX notification_outbox_event ON notification_outbox (event_id, entry_number);

-- +goose Down
DROP TABLE notification_outbox;
