-- +goose Up
-- Fingerprints become HMACs under a key derived from PII_KEY. The rows
-- written before hold sha256(path‖0‖body) of bodies with a name and a
-- phone, which a dump would let anyone brute-force: they are dropped now
-- (a day's worth at most; a retry across the upgrade runs as new), and a
-- row without hmac (written by an instance not yet upgraded) counts as
-- expired. subject links a registration's row to its participant, so that
-- the participant's erasure deletes it.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys
    ADD COLUMN hmac    boolean NOT NULL DEFAULT false,
    ADD COLUMN subject uuid;
CREATE INDEX idempotency_keys_subject ON idempotency_keys (subject) WHERE subject IS NOT NULL;

-- +goose Down
DROP INDEX idempotency_keys_subject;
ALTER TABLE idempotency_keys DROP COLUMN subject, DROP COLUMN hmac;
