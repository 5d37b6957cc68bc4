-- +goose Up
-- Winners who claimed their prize (PrizeClaimed), folded by the analytics
-- projection from now on. Claims the projection passed before this column
-- existed are not counted here: the projection's Kafka offsets are not in
-- the database, so no statement can tell which claims it will still see.
-- One rebuild of the analytics read model after the upgrade counts them
-- (README, Upgrading).
ALTER TABLE analytics ADD COLUMN claimed bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE analytics DROP COLUMN claimed;
