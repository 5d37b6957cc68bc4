-- +goose Up
-- The relay's leader looks for draws committed without a result (a drand
-- round still to come) every few seconds; this finds the commits without
-- scanning the log.
CREATE INDEX events_draw_commits_idx ON events (position) WHERE type = 'DrawCommitted';

-- +goose Down
DROP INDEX events_draw_commits_idx;
