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
-- exists, -2 one of its keys is held, -3 its Idempotency-Key is held by
-- another request. An append may claim an Idempotency-Key: the claim and
-- the answer for the append's outcome are written in the append's own
-- transaction, not in commits of their own. The checks that failed statements
-- (00002, 00003) are no longer called.
-- +goose StatementBegin
CREATE FUNCTION eventstore_append(
    p_idx int[], p_streams text[], p_modes int[], p_expected bigint[], p_counts bigint[], p_closers text[],
    p_key_idx int[], p_keys text[],
    p_subj_idx int[], p_subjects uuid[], p_wrapped bytea[],
    p_shred_idx int[], p_shreds uuid[],
    p_ck_idx int[], p_ck_ids uuid[], p_ck_wrapped bytea[],
    p_ev_idx int[], p_ev_ord int[], p_ev_ids uuid[], p_ev_pkeys text[], p_ev_types text[], p_ev_versions int[],
    p_ev_data jsonb[], p_ev_meta jsonb[],
    p_id_idx int[], p_id_scopes text[], p_id_keys text[], p_id_fps bytea[], p_id_lease float8, p_id_ttl float8,
    p_id_won_status int[], p_id_won_body bytea[], p_id_subject uuid[],
    p_id_lost_status int[], p_id_lost_body bytea[], p_id_closed_status int[], p_id_closed_body bytea[])
RETURNS TABLE (o_idx int, o_position bigint, o_version bigint)
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
#variable_conflict use_column
DECLARE
    v_idx int[];
    v_pos bigint[];
    v_ver bigint[];
BEGIN
    WITH req AS (
        SELECT * FROM unnest(p_idx, p_streams, p_modes, p_expected, p_counts, p_closers) AS r(i, stream, mode, expected, n, closer)
    ), closed AS (
        SELECT r.i FROM req r WHERE r.closer <> '' AND EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = r.closer)
    ), asked AS (
        SELECT * FROM unnest(p_key_idx, p_keys) AS k(i, key)
    ), taken AS (
        SELECT DISTINCT a.i FROM asked a JOIN event_keys k ON k.key = a.key
    ), asked_ids AS (
        SELECT * FROM unnest(p_id_idx, p_id_scopes, p_id_keys, p_id_fps, p_id_won_status, p_id_won_body, p_id_subject)
            AS u(i, scope, key, fp, won_status, won_body, subject)
    ), claims AS (
        -- Claimed with the answer of the common outcome, the append won:
        -- one row version per winner; the losers' rows are rewritten below,
        -- before anyone can see them.
        INSERT INTO idempotency_keys AS k (scope, key, fingerprint, lease_until, hmac, status, body, subject)
        SELECT u.scope, u.key, u.fp, now() + make_interval(secs => p_id_lease), true, nullif(u.won_status, 0), u.won_body, u.subject
        FROM asked_ids u ORDER BY u.scope, u.key
        ON CONFLICT (scope, key) DO UPDATE
           SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status, body = EXCLUDED.body, subject = EXCLUDED.subject,
               created_at = now(), lease_until = EXCLUDED.lease_until, hmac = true
         WHERE k.created_at < now() - make_interval(secs => p_id_ttl)
            OR (k.status IS NULL AND k.lease_until < now())
            OR NOT k.hmac
        RETURNING k.scope, k.key
    ), held AS (
        SELECT u.i FROM asked_ids u WHERE NOT EXISTS (SELECT 1 FROM claims c WHERE c.scope = u.scope AND c.key = u.key)
    ), ok AS (
        SELECT r.* FROM req r
        WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.i = r.i)
          AND NOT EXISTS (SELECT 1 FROM closed c WHERE c.i = r.i) AND NOT EXISTS (SELECT 1 FROM taken t WHERE t.i = r.i)
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
    SELECT array_agg(x.i), array_agg(x.position), array_agg(x.version) INTO v_idx, v_pos, v_ver FROM (
        SELECT w.i, a.position, a.stream_version AS version FROM appended a JOIN won w ON w.stream = a.stream_id
        UNION ALL SELECT h.i, -3::bigint, 0::bigint FROM held h
        UNION ALL SELECT c.i, -1::bigint, 0::bigint FROM closed c WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.i = c.i)
        UNION ALL SELECT t.i, -2::bigint, 0::bigint FROM taken t
            WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.i = t.i) AND NOT EXISTS (SELECT 1 FROM closed c WHERE c.i = t.i)
    ) x;

    -- The keys claimed above for requests that did not win get the answer
    -- of their outcome here, in the append's transaction: closed (-1) or
    -- its stream taken (no row). A request that lost a key (-2) or asked no
    -- answer kept (status 0) gives its claim up: its retry runs. A held key
    -- (-3) was not claimed here and is left alone.
    IF cardinality(p_id_idx) > 0 THEN
        WITH o AS (
            SELECT u.*, (SELECT min(v.pos) FROM unnest(v_idx, v_pos) AS v(i, pos) WHERE v.i = u.i) AS pos
            FROM unnest(p_id_idx, p_id_scopes, p_id_keys, p_id_won_status, p_id_won_body, p_id_subject,
                p_id_lost_status, p_id_lost_body, p_id_closed_status, p_id_closed_body)
                AS u(i, scope, key, won_status, won_body, subject, lost_status, lost_body, closed_status, closed_body)
        ), a AS (
            SELECT o.scope, o.key,
                CASE WHEN o.pos > 0 THEN o.won_status WHEN o.pos = -1 THEN o.closed_status WHEN o.pos IS NULL THEN o.lost_status ELSE 0 END AS status,
                CASE WHEN o.pos > 0 THEN o.won_body WHEN o.pos = -1 THEN o.closed_body ELSE o.lost_body END AS body,
                CASE WHEN o.pos > 0 THEN o.subject END AS subject
            FROM o WHERE o.pos IS DISTINCT FROM -3 AND NOT (coalesce(o.pos, 0) > 0 AND o.won_status <> 0)
        ), released AS (
            DELETE FROM idempotency_keys k USING a WHERE a.status = 0 AND k.scope = a.scope AND k.key = a.key
        )
        UPDATE idempotency_keys k SET status = a.status, body = a.body, subject = a.subject
        FROM a WHERE a.status <> 0 AND k.scope = a.scope AND k.key = a.key;
    END IF;

    RETURN QUERY SELECT * FROM unnest(v_idx, v_pos, v_ver);
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION eventstore_append(int[], text[], int[], bigint[], bigint[], text[], int[], text[], int[], uuid[], bytea[],
    int[], uuid[], int[], uuid[], bytea[], int[], int[], uuid[], text[], text[], int[], jsonb[], jsonb[],
    int[], text[], text[], bytea[], float8, float8, int[], bytea[], uuid[], int[], bytea[], int[], bytea[]);
