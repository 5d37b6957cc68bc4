package eventstore

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// UUIDArray binds ids as a binary uuid[], here and in the projections.
// pgx encodes a []uuid.UUID through reflection and each id's driver.Valuer,
// a string formatted and parsed back per id: about 2 µs an id, which every
// registration paid twice.
func UUIDArray(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = pgtype.UUID{Bytes: id, Valid: true}
	}
	return out
}

// pgUUID is one id as a binary uuid[] of one element.
func pgUUID(id uuid.UUID) []pgtype.UUID { return []pgtype.UUID{{Bytes: id, Valid: true}} }
