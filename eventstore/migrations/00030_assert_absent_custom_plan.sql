-- +goose Up
-- The closing-stream check is planned at each call, for the size streams
-- has then: plpgsql keeps a generic plan after five calls, and one made
-- while streams held a few rows is a sequential scan for the rest of the
-- connection's life (a fresh database's first minute of registrations:
-- 8 ms per batch at 40,000 streams, and falling).
ALTER FUNCTION eventstore_assert_absent(text[]) SET plan_cache_mode = force_custom_plan;

-- +goose Down
ALTER FUNCTION eventstore_assert_absent(text[]) RESET plan_cache_mode;
