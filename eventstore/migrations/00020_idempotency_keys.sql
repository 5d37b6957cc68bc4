-- +goose Up
-- The first answer to a request sent with an Idempotency-Key, kept for a
-- day so a client's retry gets it again from any instance. status is NULL
-- while the first request runs; lease_until lets a retry take over a key
-- whose first request died with its instance.
CREATE TABLE idempotency_keys (
    scope       text        NOT NULL,
    key         text        NOT NULL,
    fingerprint bytea       NOT NULL,
    status      integer,
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
