-- +goose Up
-- The self-service lockout (erase, 당첨 확인, claim take a phone and an entry
-- number): wrong phones per (event_id, entry_number) and the lock they set.
-- entry_lockouts' row is what concurrent attempts on one entry queue on, so
-- the count and the admission cannot race, on any instance. No phone is kept.
CREATE TABLE entry_lockouts (
    event_id     uuid        NOT NULL,
    entry_number text        NOT NULL,
    locked_until timestamptz,
    PRIMARY KEY (event_id, entry_number)
);

-- One row per attempt: failed_at is NULL while it runs (it holds one of the
-- five places until it settles or its lease ends), then the time it failed.
-- A right phone deletes its row. No foreign key: the sweep may delete an
-- entry's unlocked row at any time, and the next attempt makes it again.
CREATE TABLE entry_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid        NOT NULL,
    entry_number text        NOT NULL,
    started_at   timestamptz NOT NULL,
    failed_at    timestamptz
);
CREATE INDEX entry_attempts_entry ON entry_attempts (event_id, entry_number);

-- +goose Down
DROP TABLE entry_attempts;
DROP TABLE entry_lockouts;
