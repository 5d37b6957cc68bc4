-- +goose Up
-- The same projection at a third of the cost: the participant id is read
-- once per row and checked by its length (a registration's id is a UUID;
-- malformed data of another length is stored and makes no candidate)
-- instead of by a regular expression in a function called twice.
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION eventstore_draw_candidates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position)
    SELECT partition_key, eventstore_uuid_or_null(data->>'participantId'), coalesce(data->>'entryNumber', ''), position
    FROM new_events WHERE type = 'ParticipantRegistered' AND eventstore_uuid_or_null(data->>'participantId') IS NOT NULL
    ON CONFLICT DO NOTHING;
    IF EXISTS (SELECT 1 FROM new_events WHERE type IN ('StoreVisitRecorded', 'ParticipantErased')) THEN
        UPDATE draw_candidates c
        SET visited = c.visited OR n.type = 'StoreVisitRecorded',
            erased = c.erased OR n.type = 'ParticipantErased',
            last_position = GREATEST(c.last_position, n.position)
        FROM new_events n
        WHERE n.type IN ('StoreVisitRecorded', 'ParticipantErased')
          AND c.event_id = n.partition_key AND c.participant_id = eventstore_uuid_or_null(n.data->>'participantId');
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
