-- +goose Up
-- When each candidate registered, first visited and was erased: the public
-- certificate's leaves are the candidates as they stood at a draw's cut-off,
-- and a visit or an erasure after the draw must not change them.
ALTER TABLE draw_candidates
    ADD COLUMN registered_position bigint,
    ADD COLUMN visited_position    bigint,
    ADD COLUMN erased_position     bigint;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION eventstore_draw_candidates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position, registered_position)
    SELECT n.partition_key, x.p::uuid, coalesce(n.data->>'entryNumber', ''), n.position, n.position
    FROM new_events n, LATERAL (SELECT n.data->>'participantId') AS x(p)
    WHERE n.type = 'ParticipantRegistered' AND length(x.p) = 36
    ON CONFLICT DO NOTHING;
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

-- Existing stores: the positions from the log.
UPDATE draw_candidates c SET registered_position = e.position
FROM events e
WHERE e.type = 'ParticipantRegistered' AND e.partition_key = c.event_id
  AND length(e.data->>'participantId') = 36 AND (e.data->>'participantId')::uuid = c.participant_id;

UPDATE draw_candidates c SET visited_position = v.position
FROM (SELECT partition_key, (data->>'participantId')::uuid AS participant_id, min(position) AS position
      FROM events WHERE type = 'StoreVisitRecorded' AND length(data->>'participantId') = 36 GROUP BY 1, 2) v
WHERE c.event_id = v.partition_key AND c.participant_id = v.participant_id;

UPDATE draw_candidates c SET erased_position = v.position
FROM (SELECT partition_key, (data->>'participantId')::uuid AS participant_id, min(position) AS position
      FROM events WHERE type = 'ParticipantErased' AND length(data->>'participantId') = 36 GROUP BY 1, 2) v
WHERE c.event_id = v.partition_key AND c.participant_id = v.participant_id;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION eventstore_draw_candidates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position)
    SELECT n.partition_key, x.p::uuid, coalesce(n.data->>'entryNumber', ''), n.position
    FROM new_events n, LATERAL (SELECT n.data->>'participantId') AS x(p)
    WHERE n.type = 'ParticipantRegistered' AND length(x.p) = 36
    ON CONFLICT DO NOTHING;
    IF EXISTS (SELECT 1 FROM new_events WHERE type IN ('StoreVisitRecorded', 'ParticipantErased')) THEN
        UPDATE draw_candidates c
        SET visited = c.visited OR n.type = 'StoreVisitRecorded',
            erased = c.erased OR n.type = 'ParticipantErased',
            last_position = GREATEST(c.last_position, n.position)
        FROM new_events n, LATERAL (SELECT n.data->>'participantId') AS x(p)
        WHERE n.type IN ('StoreVisitRecorded', 'ParticipantErased') AND length(x.p) = 36
          AND c.event_id = n.partition_key AND c.participant_id = x.p::uuid;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
ALTER TABLE draw_candidates
    DROP COLUMN registered_position,
    DROP COLUMN visited_position,
    DROP COLUMN erased_position;
