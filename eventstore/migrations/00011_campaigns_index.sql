-- +goose Up
-- Retention walks every campaign; this finds their CampaignOpened without
-- scanning the log.
CREATE INDEX events_campaigns_idx ON events (position) WHERE type = 'CampaignOpened';

-- +goose Down
DROP INDEX events_campaigns_idx;
