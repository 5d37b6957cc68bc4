-- +goose Up
-- Fails when any of the streams exists, so that a pipelined batch append
-- can check its closing streams without a round trip of its own.
-- +goose StatementBegin
CREATE FUNCTION eventstore_assert_absent(p_streams text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM streams WHERE stream_id = ANY(p_streams)) THEN
        RAISE EXCEPTION 'a closing stream exists' USING ERRCODE = 'ES001';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION eventstore_assert_absent(text[]);
