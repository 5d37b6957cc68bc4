-- +goose Up
-- Read models: derived from the event store, rebuildable at any time.
-- They hold masked names and phones only, never the raw values.

-- Idempotency: the last position each projection applied per partition key
-- (the campaign). Events of one key arrive in position order, so an event at
-- or below the stored position is a redelivery and is skipped.
CREATE TABLE projection_positions (
    projection    text        NOT NULL,
    partition_key text        NOT NULL,
    position      bigint      NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, partition_key)
);

-- The last position each projection has consumed overall, for status and lag.
CREATE TABLE projection_checkpoints (
    projection text PRIMARY KEY,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- seq numbers a campaign's participants 1, 2, 3... in registration order and
-- path_seq does so per entry path. Both are dense, so page p of size n,
-- newest first, is the key range (total - p*n, total - (p-1)*n]: any page of
-- a million costs the same as the first.
CREATE TABLE participants (
    participant_id  uuid        PRIMARY KEY,
    event_id        uuid        NOT NULL,
    seq             bigint      NOT NULL,
    path_seq        bigint      NOT NULL,
    position        bigint      NOT NULL,
    entry_number    text        NOT NULL,
    name_masked     text        NOT NULL,
    phone_masked    text        NOT NULL,
    entry_path      text        NOT NULL,
    participated_at timestamptz NOT NULL,
    store_visited   boolean     NOT NULL DEFAULT false,
    winner          boolean     NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX participants_newest_idx ON participants (event_id, seq DESC);
CREATE UNIQUE INDEX participants_path_newest_idx ON participants (event_id, entry_path, path_seq DESC);
CREATE INDEX participants_winners_idx ON participants (event_id, seq DESC) WHERE winner;

-- Counters kept in the participants projection's transactions, so that a
-- page's totalCount never counts rows: entry_path '' is the whole campaign.
CREATE TABLE participant_counts (
    event_id   uuid   NOT NULL,
    entry_path text   NOT NULL,
    registered bigint NOT NULL DEFAULT 0,
    winners    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, entry_path)
);

CREATE TABLE winners (
    event_id       uuid NOT NULL,
    rank           int  NOT NULL,
    participant_id uuid NOT NULL,
    entry_number   text NOT NULL,
    name_masked    text NOT NULL,
    phone_masked   text NOT NULL,
    draw_id        uuid NOT NULL,
    PRIMARY KEY (event_id, rank)
);

CREATE TABLE draw_log (
    draw_id            uuid        PRIMARY KEY,
    event_id           uuid        NOT NULL,
    method             text        NOT NULL,
    winner_count       int         NOT NULL,
    algorithm          text        NOT NULL,
    visit_bonus        boolean     NOT NULL,
    visit_bonus_weight int         NOT NULL,
    seed               text        NOT NULL,
    candidate_count    bigint      NOT NULL,
    candidates_digest  text        NOT NULL,
    cutoff_position    bigint      NOT NULL,
    drawn_at           timestamptz NOT NULL,
    drawn_by           text        NOT NULL,
    winners            jsonb       NOT NULL,
    position           bigint      NOT NULL
);
CREATE INDEX draw_log_event_idx ON draw_log (event_id, drawn_at);

CREATE TABLE analytics (
    event_id           uuid        PRIMARY KEY,
    total_participants bigint      NOT NULL DEFAULT 0,
    store_visits       bigint      NOT NULL DEFAULT 0,
    winners            bigint      NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL
);

CREATE TABLE analytics_channels (
    event_id     uuid   NOT NULL,
    entry_path   text   NOT NULL,
    participants bigint NOT NULL,
    PRIMARY KEY (event_id, entry_path)
);

-- hour: the start of the hour in Asia/Seoul.
CREATE TABLE analytics_hours (
    event_id     uuid        NOT NULL,
    hour         timestamptz NOT NULL,
    participants bigint      NOT NULL,
    PRIMARY KEY (event_id, hour)
);

-- +goose Down
DROP TABLE analytics_hours;
DROP TABLE analytics_channels;
DROP TABLE analytics;
DROP TABLE draw_log;
DROP TABLE winners;
DROP TABLE participant_counts;
DROP TABLE participants;
DROP TABLE projection_checkpoints;
DROP TABLE projection_positions;
