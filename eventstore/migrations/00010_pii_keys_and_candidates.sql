-- +goose Up
-- Participants' data keys, each wrapped by the key-encryption key derived
-- from PII_KEY. Deleting a row is the erasure (crypto-shredding): the
-- participant's sealed pii in events can no longer be opened.
CREATE TABLE pii_keys (
    participant_id uuid        PRIMARY KEY,
    wrapped        bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- The draw's candidates, an inline projection of the store: maintained by a
-- trigger in the very statement that inserts the events, so a draw under the
-- campaign's fence sees exactly the committed, non-erased registrations.
-- last_position is the newest event applied to the row: the draw's cut-off.
CREATE TABLE draw_candidates (
    event_id       text    NOT NULL,
    participant_id uuid    NOT NULL,
    entry_number   text    NOT NULL,
    visited        boolean NOT NULL DEFAULT false,
    erased         boolean NOT NULL DEFAULT false,
    last_position  bigint  NOT NULL,
    PRIMARY KEY (event_id, participant_id)
);

-- A malformed participant id yields NULL instead of failing the append: the
-- store takes any data, and such a row is no candidate.
-- +goose StatementBegin
CREATE FUNCTION eventstore_uuid_or_null(p text) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN p::uuid END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION eventstore_draw_candidates() RETURNS trigger
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

CREATE TRIGGER events_draw_candidates AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_draw_candidates();

-- Existing stores: the candidates of the events already there.
INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position)
SELECT partition_key, eventstore_uuid_or_null(data->>'participantId'), coalesce(data->>'entryNumber', ''), position
FROM events WHERE type = 'ParticipantRegistered' AND eventstore_uuid_or_null(data->>'participantId') IS NOT NULL
ON CONFLICT DO NOTHING;

UPDATE draw_candidates c SET visited = true, last_position = GREATEST(c.last_position, v.position)
FROM (SELECT partition_key, eventstore_uuid_or_null(data->>'participantId') AS participant_id, max(position) AS position
      FROM events WHERE type = 'StoreVisitRecorded' GROUP BY 1, 2) v
WHERE c.event_id = v.partition_key AND c.participant_id = v.participant_id;

-- +goose Down
DROP TRIGGER events_draw_candidates ON events;
DROP FUNCTION eventstore_draw_candidates();
DROP FUNCTION eventstore_uuid_or_null(text);
DROP TABLE draw_candidates;
DROP TABLE pii_keys;
