-- +goose Up
-- The winners' names as the public result lists them (first and last letter:
-- domain.MaskListedName), carried masked in the public registration. Rows
-- already here cannot be filled without PII_KEY: `projections rebuild
-- winners` fills them; until then the result lists their names empty.
ALTER TABLE winners ADD COLUMN name_listed text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE winners DROP COLUMN name_listed;
