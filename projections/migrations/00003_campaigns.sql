-- +goose Up
-- The campaigns read model: each owner's campaigns for the dashboard. The
-- state (scheduled, open, closed, drawn) is derived at query time from the
-- dates and the drawn flag, since time passes without events.
CREATE TABLE campaigns (
    event_id     uuid        PRIMARY KEY,
    owner_id     text        NOT NULL,
    title        text        NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    announce_at  timestamptz NOT NULL,
    drawn        boolean     NOT NULL DEFAULT false,
    participants bigint      NOT NULL DEFAULT 0,
    -- the CampaignOpened's position: newest first is position descending
    position     bigint      NOT NULL
);
CREATE INDEX campaigns_owner_newest_idx ON campaigns (owner_id, position DESC);

-- +goose Down
DROP TABLE campaigns;
