-- +goose Up
-- projection_claim (00002) was written for a per-message claim that the
-- batched projector replaced: it locks and compares the positions itself, in
-- the batch's transaction. Nothing calls the function; an unused function is
-- one more thing to keep in step with projection_positions.
DROP FUNCTION IF EXISTS projection_claim(text, text, bigint);

-- +goose Down
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
