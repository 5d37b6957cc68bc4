package projections

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgUUIDs binds ids as a binary uuid[]. pgx encodes a []uuid.UUID through
// reflection and each id's driver.Valuer, a string formatted and parsed
// back per id (see eventstore's pgUUIDs).
func pgUUIDs(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = pgtype.UUID{Bytes: id, Valid: true}
	}
	return out
}
