-- +goose Up
-- The winners' claim deadline (CampaignOpened.claimDeadline). Every campaign
-- already here was opened before the field existed, so it has the default a
-- decode gives such an event: announceAt + 7 days; a rebuild agrees.
ALTER TABLE campaigns ADD COLUMN claim_deadline timestamptz;
UPDATE campaigns SET claim_deadline = announce_at + interval '7 days';
ALTER TABLE campaigns ALTER COLUMN claim_deadline SET NOT NULL;

-- +goose Down
ALTER TABLE campaigns DROP COLUMN claim_deadline;
