-- +goose Up
-- A winner's claim (PrizeClaimed): when, never where (the delivery stays
-- sealed in the event store). Rows already here are filled by the live
-- projector as claims arrive; none were possible before this column.
ALTER TABLE winners ADD COLUMN claimed_at timestamptz;

-- +goose Down
ALTER TABLE winners DROP COLUMN claimed_at;
