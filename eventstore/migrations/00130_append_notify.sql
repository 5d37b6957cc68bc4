-- +goose Up
-- A tail that has caught up (the relay) waits for appends instead of polling:
-- it LISTENs on eventstore_appended and, while it waits, holds the session
-- advisory lock (8470, 1). An append notifies only then. NOTIFY serializes
-- the commits that send it (PostgreSQL takes one lock per cluster from its
-- pre-commit to the end of the commit, WAL flush included), so appends under
-- load, when the tail never waits, must not send one.
--
-- No wake-up is lost: an append that finds the lock free holds it shared
-- until it commits, so the tail cannot start waiting before that commit
-- (it polls shortly instead); one that finds it held notifies, and the tail
-- reads the log again once it has the lock, before it waits.
-- +goose StatementBegin
CREATE FUNCTION eventstore_appended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock_shared(8470, 1) THEN
        PERFORM pg_notify('eventstore_appended', '');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_appended AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_appended();

-- +goose Down
DROP TRIGGER events_appended ON events;
DROP FUNCTION eventstore_appended();
