-- +goose Up
-- The de-duplication claim as one statement that fails when the event was
-- applied before, so that a live projector can send the claim and the
-- read-model writes in one pipelined round trip: a duplicate aborts the
-- implicit transaction and nothing of it is written.
-- +goose StatementBegin
CREATE FUNCTION projection_claim(p_projection text, p_key text, p_position bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO projection_positions AS p (projection, partition_key, position, updated_at)
    VALUES (p_projection, p_key, p_position, now())
    ON CONFLICT (projection, partition_key) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
    WHERE p.position < EXCLUDED.position;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event at position % already applied', p_position USING ERRCODE = 'PJ001';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION projection_claim(text, text, bigint);
