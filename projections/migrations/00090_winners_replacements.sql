-- +goose Up
-- 교체 (WinnerReplaced): the replaced winner keeps its row with the reason
-- and time; the promoted alternate's row names the winner's rank it took
-- and its own claim deadline (NULL: the campaign's, as for every drawn
-- winner). No replacement was possible before these columns.
ALTER TABLE winners
  ADD COLUMN replaced_reason text,
  ADD COLUMN replaced_at timestamptz,
  ADD COLUMN promoted_rank int,
  ADD COLUMN claim_deadline timestamptz;

-- +goose Down
ALTER TABLE winners
  DROP COLUMN replaced_reason,
  DROP COLUMN replaced_at,
  DROP COLUMN promoted_rank,
  DROP COLUMN claim_deadline;
