-- +goose Up
-- A registration writes three rows: its event, its data key and its draw
-- candidate. The streams table and the entry number's event_keys row go:
--
-- - A stream's version is its newest event's: the unique index on events
--   (stream_id, stream_version) is the optimistic concurrency. An append
--   inserts its first event at base + 1 with ON CONFLICT DO NOTHING (the
--   loser of a race waits for the winner's commit and gets no row), then
--   its other events; no one can hold base + 2 without base + 1, so those
--   never conflict. Exactly(n) also needs version n to exist (no gap);
--   Any takes the newest version it sees and loses a race like the others
--   (the caller sends it again).
-- - An entry number is unique per campaign by its draw candidate's unique
--   index: the candidate is written by the events' trigger anyway. The
--   trigger's ON CONFLICT names the candidate's own key, so a second
--   registration with a number already drawn fails its statement
--   (draw_candidates_entry_number_key), which the engine answers like a
--   held key: after the pre-check found the committed ones, only a number
--   taken by a concurrent transaction gets there.
--
-- The text keys compare bytewise (COLLATE "C"): cheaper than the
-- database's collation in every index probe, and no order of them is shown
-- to anyone.
ALTER TABLE events
    ALTER COLUMN stream_id TYPE text COLLATE "C",
    ALTER COLUMN partition_key TYPE text COLLATE "C";
ALTER TABLE event_keys ALTER COLUMN key TYPE text COLLATE "C";
ALTER TABLE draw_candidates
    ALTER COLUMN event_id TYPE text COLLATE "C",
    ALTER COLUMN entry_number TYPE text COLLATE "C";
CREATE UNIQUE INDEX draw_candidates_entry_number_key ON draw_candidates (event_id, entry_number);
-- Entry keys are found by the candidate now (Store.ParticipantByEntry).
DELETE FROM event_keys WHERE key LIKE 'entry:%';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION eventstore_draw_candidates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position, registered_position)
    SELECT n.partition_key, x.p::uuid, coalesce(n.data->>'entryNumber', ''), n.position, n.position
    FROM new_events n, LATERAL (SELECT n.data->>'participantId') AS x(p)
    WHERE n.type = 'ParticipantRegistered' AND length(x.p) = 36
    ON CONFLICT (event_id, participant_id) DO NOTHING;
    IF EXISTS (SELECT 1 FROM new_events WHERE type IN ('StoreVisitRecorded', 'ParticipantErased')) THEN
        UPDATE draw_candidates c
        SET visited = c.visited OR n.type = 'StoreVisitRecorded',
            erased = c.erased OR n.type = 'ParticipantErased',
            last_position = GREATEST(c.last_position, n.position),
            visited_position = CASE WHEN n.type = 'StoreVisitRecorded' THEN coalesce(c.visited_position, n.position) ELSE c.visited_position END,
            erased_position = CASE WHEN n.type = 'ParticipantErased' THEN coalesce(c.erased_position, n.position) ELSE c.erased_position END
        FROM new_events n, LATERAL (SELECT n.data->>'participantId') AS x(p)
        WHERE n.type IN ('StoreVisitRecorded', 'ParticipantErased') AND length(x.p) = 36
          AND c.event_id = n.partition_key AND c.participant_id = x.p::uuid;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP FUNCTION eventstore_append(int[], text[], int[], bigint[], bigint[], text[], int[], text[], int[], uuid[], bytea[],
    int[], uuid[], int[], uuid[], bytea[], int[], int[], uuid[], text[], text[], int[], jsonb[], jsonb[],
    int[], text[], text[], bytea[], float8, float8, int[], bytea[], uuid[], int[], bytea[], int[], bytea[]);
DROP FUNCTION eventstore_assert_absent(text[]);
DROP FUNCTION eventstore_claim_exact(text, bigint, bigint);
DROP TABLE streams;

-- The engine's statement (eventstore/append.go). Rows with a negative
-- o_position say why a request lost: -1 its closing stream exists, -2 one
-- of its keys or its entry number is held, -3 its Idempotency-Key is held
-- by another request. A request with no row lost its stream.
-- A function for its SET enable_seqscan = off: the plan plpgsql keeps for
-- the connection probes the indexes even when made while they held a few
-- rows.
-- +goose StatementBegin
CREATE FUNCTION eventstore_append(
    p_idx int[], p_streams text[], p_modes int[], p_expected bigint[], p_closers text[],
    p_key_idx int[], p_keys text[], p_en_idx int[], p_en_events text[], p_en_numbers text[],
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
    -- The transaction's xid before any position is drawn: the tail reads
    -- below the oldest xid in flight, so a position must never exist
    -- before its transaction's xid does.
    PERFORM pg_current_xact_id();

    WITH req AS (
        SELECT * FROM unnest(p_idx, p_streams, p_modes, p_expected, p_closers) AS r(i, stream, mode, expected, closer)
    ), closed AS (
        SELECT r.i FROM req r WHERE r.closer <> '' AND EXISTS (SELECT 1 FROM events e WHERE e.stream_id = r.closer)
    ), taken AS (
        SELECT a.i FROM unnest(p_key_idx, p_keys) AS a(i, key) WHERE EXISTS (SELECT 1 FROM event_keys k WHERE k.key = a.key)
        UNION
        SELECT a.i FROM unnest(p_en_idx, p_en_events, p_en_numbers) AS a(i, ev, num)
        WHERE EXISTS (SELECT 1 FROM draw_candidates c WHERE c.event_id = a.ev AND c.entry_number = a.num)
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
    ), based AS (
        -- The version each request appends after; Exactly(n) only after
        -- an n that exists. A version already taken is answered here, before
        -- it draws a position: a duplicate registration leaves no hole for
        -- the tail to wait out; only a race does.
        SELECT r.i, r.stream, CASE r.mode WHEN 1 THEN r.expected WHEN 2 THEN
            coalesce((SELECT e.stream_version FROM events e WHERE e.stream_id = r.stream ORDER BY e.stream_version DESC LIMIT 1), 0)
            ELSE 0 END AS base
        FROM req r
        WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.i = r.i)
          AND NOT EXISTS (SELECT 1 FROM closed c WHERE c.i = r.i) AND NOT EXISTS (SELECT 1 FROM taken t WHERE t.i = r.i)
          AND (r.mode <> 1 OR r.expected = 0
               OR EXISTS (SELECT 1 FROM events e WHERE e.stream_id = r.stream AND e.stream_version = r.expected))
          AND (r.mode = 2
               OR NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = r.stream AND e.stream_version = r.expected + 1))
    ), ev AS (
        SELECT * FROM unnest(p_ev_idx, p_ev_ord, p_ev_ids, p_ev_pkeys, p_ev_types, p_ev_versions, p_ev_data, p_ev_meta)
            AS e(i, ord, id, pkey, type, sv, data, meta)
    ), firsts AS (
        -- In stream order, so that two batches never deadlock on each
        -- other's first events; the ORDER BY comes before nextval.
        INSERT INTO events (position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
        SELECT nextval('events_position_seq'), pg_current_xact_id(), e.id, b.stream, b.base + 1, e.pkey, e.type, e.sv, e.data, e.meta
        FROM ev e JOIN based b ON b.i = e.i WHERE e.ord = 1 ORDER BY b.stream
        ON CONFLICT (stream_id, stream_version) DO NOTHING
        RETURNING events.position, events.stream_id, events.stream_version
    ), won AS (
        SELECT b.i, b.stream, b.base, f.position FROM based b JOIN firsts f ON f.stream_id = b.stream
    ), rest AS (
        INSERT INTO events (position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
        SELECT nextval('events_position_seq'), pg_current_xact_id(), e.id, w.stream, w.base + e.ord, e.pkey, e.type, e.sv, e.data, e.meta
        FROM ev e JOIN won w ON w.i = e.i WHERE e.ord > 1 ORDER BY w.stream, e.ord
        RETURNING events.position, events.stream_id, events.stream_version
    ), keys AS (
        INSERT INTO event_keys (key, stream_id)
        SELECT a.key, w.stream FROM unnest(p_key_idx, p_keys) AS a(i, key) JOIN won w ON w.i = a.i ORDER BY a.key
    ), subject_keys AS (
        INSERT INTO pii_keys (participant_id, wrapped)
        SELECT u.subject, u.wrapped FROM unnest(p_subj_idx, p_subjects, p_wrapped) AS u(i, subject, wrapped) JOIN won w ON w.i = u.i
    ), shredded AS (
        DELETE FROM pii_keys p USING unnest(p_shred_idx, p_shreds) AS u(i, subject), won w
        WHERE w.i = u.i AND p.participant_id = u.subject
    ), campaign_key AS (
        INSERT INTO campaign_keys (event_id, wrapped)
        SELECT u.campaign, u.wrapped FROM unnest(p_ck_idx, p_ck_ids, p_ck_wrapped) AS u(i, campaign, wrapped) JOIN won w ON w.i = u.i
    )
    SELECT array_agg(x.i), array_agg(x.position), array_agg(x.version) INTO v_idx, v_pos, v_ver FROM (
        SELECT w.i, w.position, w.base + 1 AS version FROM won w
        UNION ALL SELECT w.i, a.position, a.stream_version FROM rest a JOIN won w ON w.stream = a.stream_id
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
-- None: the streams' versions live in events now; an older binary would
-- need the streams table rebuilt from them.
