-- +goose Up
-- The closing-stream check keeps one plan, an index probe whatever the size
-- of streams: with seq scans off the plan plpgsql keeps after five calls is
-- the probe even when made while streams held a few rows. Forcing a custom
-- plan (00030) planned the check again at every batch, most of its cost.
ALTER FUNCTION eventstore_assert_absent(text[]) RESET plan_cache_mode;
ALTER FUNCTION eventstore_assert_absent(text[]) SET enable_seqscan = off;

-- +goose Down
ALTER FUNCTION eventstore_assert_absent(text[]) RESET enable_seqscan;
ALTER FUNCTION eventstore_assert_absent(text[]) SET plan_cache_mode = force_custom_plan;
