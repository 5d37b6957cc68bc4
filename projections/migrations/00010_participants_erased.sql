-- +goose Up
-- A participant whose personal data was erased stays in the list (and the
-- counts), flagged, with empty name and phone.
ALTER TABLE participants ADD COLUMN erased boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE participants DROP COLUMN erased;
