-- +goose Up
-- An erasure empties a winner's masked values by participant id.
CREATE INDEX winners_participant_idx ON winners (participant_id);

-- +goose Down
DROP INDEX winners_participant_idx;
