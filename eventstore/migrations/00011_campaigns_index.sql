-- +goose Up
-- Retention walks every campaign; this finds their CampaignOpened without
-- scanning the log.
CREATE INDEX events_campaigns_idx ON events (position) WHERE type = 'CampaignOpened';

-- Registrations still in clear (schema 1): what migrate seals; empty after.
CREATE INDEX events_unsealed_idx ON events (position) WHERE type = 'ParticipantRegistered' AND schema_version < 2;

-- +goose Down
DROP INDEX events_unsealed_idx;
DROP INDEX events_campaigns_idx;
