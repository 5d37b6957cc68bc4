-- +goose Up
-- Moves a stream from exactly p_expected to p_next events, or fails: a
-- pipelined append checks its expected version without a round trip of its own.
-- +goose StatementBegin
CREATE FUNCTION eventstore_claim_exact(p_stream text, p_expected bigint, p_next bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE streams SET version = p_next WHERE stream_id = p_stream AND version = p_expected;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stream % is not at version %', p_stream, p_expected USING ERRCODE = 'ES002';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION eventstore_claim_exact(text, bigint, bigint);
