-- +goose Up
-- Each campaign's participant-id key (campaigns opened since per-campaign
-- keys; an older campaign has no row and keeps its scheme), wrapped by the
-- key-encryption key derived from PII_KEY. Retention deletes the row once
-- the campaign's last retention has passed: afterwards no phone can be
-- linked to the campaign's participant ids, even with PII_KEY.
CREATE TABLE campaign_keys (
    event_id   uuid        PRIMARY KEY,
    wrapped    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE campaign_keys;
