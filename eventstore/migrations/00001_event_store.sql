-- +goose Up
-- The event store: the only source of truth.
-- Positions come from a sequence, so transactions may commit out of position
-- order; tx_id lets readers wait for in-flight transactions (see tail.go).
CREATE SEQUENCE events_position_seq AS bigint;

CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    version   bigint NOT NULL CHECK (version >= 0)
);

CREATE TABLE events (
    position       bigint      PRIMARY KEY,
    tx_id          xid8        NOT NULL,
    event_id       uuid        NOT NULL UNIQUE,
    stream_id      text        NOT NULL,
    stream_version bigint      NOT NULL,
    partition_key  text        NOT NULL DEFAULT '',
    type           text        NOT NULL,
    schema_version int         NOT NULL DEFAULT 1,
    data           jsonb       NOT NULL,
    metadata       jsonb       NOT NULL DEFAULT '{}',
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_partition_idx ON events (partition_key, position);

-- Unique keys claimed together with an append (an entry number per campaign).
CREATE TABLE event_keys (
    key       text PRIMARY KEY,
    stream_id text NOT NULL
);

-- Durable checkpoints of readers of the global log (the relay).
CREATE TABLE checkpoints (
    name       text PRIMARY KEY,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE event_keys;
DROP TABLE events;
DROP TABLE streams;
DROP SEQUENCE events_position_seq;
