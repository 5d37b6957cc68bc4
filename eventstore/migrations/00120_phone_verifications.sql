-- +goose Up
-- Phone verification codes (PHONE_VERIFICATION=otp), one row per phone of a
-- campaign: subject is an HMAC of (event id, phone) and code_mac an HMAC of
-- the code, both under a key derived from PII_KEY, so the table holds no
-- phone and no code. The row is what the resend limit and the tries count
-- on, each changed by one atomic statement, on every instance.
CREATE TABLE phone_verifications (
    subject    bytea       PRIMARY KEY,
    code_mac   bytea       NOT NULL,
    sent_at    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    tries      integer     NOT NULL DEFAULT 0
);
CREATE INDEX phone_verifications_expires ON phone_verifications (expires_at);

-- +goose Down
DROP TABLE phone_verifications;
