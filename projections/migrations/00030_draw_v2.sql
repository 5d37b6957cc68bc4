-- +goose Up
-- Draw v2: the winners read model holds the alternates too (kind WINNER or
-- ALTERNATE, each kind ranked from 1), and the draw log a commit before its
-- result (state COMMITTED, then DRAWN) with the commit's figures; v1 rows
-- keep their digest and are DRAWN.
ALTER TABLE winners ADD COLUMN kind text NOT NULL DEFAULT 'WINNER';
ALTER TABLE winners DROP CONSTRAINT winners_pkey;
ALTER TABLE winners ADD PRIMARY KEY (event_id, kind, rank);

ALTER TABLE draw_log
    ADD COLUMN state                 text NOT NULL DEFAULT 'DRAWN',
    ADD COLUMN alternate_count       int  NOT NULL DEFAULT 0,
    ADD COLUMN alternates            jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN candidates_root       text,
    ADD COLUMN randomness_source     text,
    ADD COLUMN randomness_chain_hash text,
    ADD COLUMN randomness_round      bigint,
    ADD COLUMN beacon                jsonb,
    ADD COLUMN committed_at          timestamptz,
    ADD COLUMN committed_by          text,
    ALTER COLUMN seed DROP NOT NULL,
    ALTER COLUMN candidates_digest DROP NOT NULL,
    ALTER COLUMN drawn_at DROP NOT NULL,
    ALTER COLUMN drawn_by DROP NOT NULL;

-- +goose Down
ALTER TABLE draw_log
    DROP COLUMN state, DROP COLUMN alternate_count, DROP COLUMN alternates, DROP COLUMN candidates_root,
    DROP COLUMN randomness_source, DROP COLUMN randomness_chain_hash, DROP COLUMN randomness_round,
    DROP COLUMN beacon, DROP COLUMN committed_at, DROP COLUMN committed_by;
DELETE FROM winners WHERE kind <> 'WINNER';
ALTER TABLE winners DROP CONSTRAINT winners_pkey;
ALTER TABLE winners ADD PRIMARY KEY (event_id, rank);
ALTER TABLE winners DROP COLUMN kind;
