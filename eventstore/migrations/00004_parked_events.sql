-- +goose Up
-- Events the relay did not publish: those Kafka refused for good (refused)
-- and, behind each, the later events of the same campaign, held so that the
-- campaign's order survives (see relay/parking.go). The events themselves
-- stay in the events table; a row here is gone once the event is sent.
CREATE TABLE parked_events (
    position        bigint      PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    partition_key   text        NOT NULL,
    type            text        NOT NULL,
    refused         boolean     NOT NULL,
    error           text        NOT NULL DEFAULT '',
    retry_requested boolean     NOT NULL DEFAULT false,
    parked_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX parked_events_partition_idx ON parked_events (partition_key, position);

-- +goose Down
DROP TABLE parked_events;
