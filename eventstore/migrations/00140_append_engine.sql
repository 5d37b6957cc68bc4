-- +goose Up
-- The append engine's one statement (eventstore/append.go): every append,
-- single or batched, claims its stream with ON CONFLICT DO NOTHING (or an
-- exact UPDATE) and writes its keys, data key and events only if it won, so
-- a request that loses is answered alone and never aborts its batch. The
-- claims come first (the events join on them), which gives the transaction
-- its xid before the events draw their positions: the tail relies on that
-- order. The streams are claimed in stream order, so that two batches never
-- deadlock; the ORDER BY before nextval keeps positions in request and
-- stream-version order. A function for its SET enable_seqscan = off: the
-- plan plpgsql keeps for the connection probes the indexes of streams and
-- event_keys even when made while they held a few rows. Rows with a
-- negative o_position say why a request lost: -1 its closing stream
-- exists, -2 one of its keys is held. The checks that failed statements
-- (00002, 00003) are no longer called.
-- +goose StatementBegin
CREATE FUNCTION eventstore_append(
    p_idx int[], p_streams text[], p_modes int[], p_expected bigint[], p_counts bigint[], p_closers text[],
    p_key_idx int[], p_keys text[],
    p_subj_idx int[], p_subjects uuid[], p_wrapped bytea[],
    p_shred_idx int[], p_shreds uuid[],
    p_ck_idx int[], p_ck_ids uuid[], p_ck_wrapped bytea[],
    p_ev_idx int[], p_ev_ord int[], p_ev_ids uuid[], p_ev_pkeys text[], p_ev_types text[], p_ev_versions int[],
    p_ev_data jsonb[], p_ev_meta jsonb[])
RETURNS TABLE (o_idx int, o_position bigint, o_version bigint)
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY WITH req AS (
        SELECT * FROM unnest(p_idx, p_streams, p_modes, p_expected, p_counts, p_closers) AS r(i, stream, mode, expected, n, closer)
    ), closed AS (
        SELECT r.i FROM req r WHERE r.closer <> '' AND EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = r.closer)
    ), asked AS (
        SELECT * FROM unnest(p_key_idx, p_keys) AS k(i, key)
    ), taken AS (
        SELECT DISTINCT a.i FROM asked a JOIN event_keys k ON k.key = a.key
    ), ok AS (
        SELECT r.* FROM req r
        WHERE NOT EXISTS (SELECT 1 FROM closed c WHERE c.i = r.i) AND NOT EXISTS (SELECT 1 FROM taken t WHERE t.i = r.i)
    ), claimed_new AS (
        INSERT INTO streams (stream_id, version) SELECT o.stream, o.n FROM ok o WHERE o.mode = 0 ORDER BY o.stream
        ON CONFLICT DO NOTHING RETURNING streams.stream_id, streams.version
    ), claimed_exact AS (
        UPDATE streams s SET version = o.expected + o.n FROM ok o
        WHERE o.mode = 1 AND s.stream_id = o.stream AND s.version = o.expected RETURNING s.stream_id, s.version
    ), claimed_any AS (
        INSERT INTO streams AS s (stream_id, version) SELECT o.stream, o.n FROM ok o WHERE o.mode = 2 ORDER BY o.stream
        ON CONFLICT (stream_id) DO UPDATE SET version = s.version + EXCLUDED.version RETURNING s.stream_id, s.version
    ), won AS (
        SELECT o.i, o.stream, c.version - o.n AS base FROM ok o JOIN (
            SELECT * FROM claimed_new UNION ALL SELECT * FROM claimed_exact UNION ALL SELECT * FROM claimed_any
        ) c ON c.stream_id = o.stream
    ), keys AS (
        INSERT INTO event_keys (key, stream_id) SELECT a.key, w.stream FROM asked a JOIN won w ON w.i = a.i ORDER BY a.key
    ), subject_keys AS (
        INSERT INTO pii_keys (participant_id, wrapped)
        SELECT u.subject, u.wrapped FROM unnest(p_subj_idx, p_subjects, p_wrapped) AS u(i, subject, wrapped) JOIN won w ON w.i = u.i
    ), shredded AS (
        DELETE FROM pii_keys p USING unnest(p_shred_idx, p_shreds) AS u(i, subject), won w
        WHERE w.i = u.i AND p.participant_id = u.subject
    ), campaign_key AS (
        INSERT INTO campaign_keys (event_id, wrapped)
        SELECT u.campaign, u.wrapped FROM unnest(p_ck_idx, p_ck_ids, p_ck_wrapped) AS u(i, campaign, wrapped) JOIN won w ON w.i = u.i
    ), appended AS (
        INSERT INTO events (position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
        SELECT nextval('events_position_seq'), pg_current_xact_id(), e.id, w.stream, w.base + e.ord, e.pkey, e.type, e.sv, e.data, e.meta
        FROM unnest(p_ev_idx, p_ev_ord, p_ev_ids, p_ev_pkeys, p_ev_types, p_ev_versions, p_ev_data, p_ev_meta)
            AS e(i, ord, id, pkey, type, sv, data, meta)
        JOIN won w ON w.i = e.i ORDER BY e.i, e.ord
        RETURNING events.position, events.stream_id, events.stream_version
    )
    SELECT w.i, a.position, a.stream_version FROM appended a JOIN won w ON w.stream = a.stream_id
    UNION ALL SELECT c.i, -1::bigint, 0::bigint FROM closed c
    UNION ALL SELECT t.i, -2::bigint, 0::bigint FROM taken t;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION eventstore_append(int[], text[], int[], bigint[], bigint[], text[], int[], text[], int[], uuid[], bytea[],
    int[], uuid[], int[], uuid[], bytea[], int[], int[], uuid[], text[], text[], int[], jsonb[], jsonb[]);
