package eventstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Rewrite is one stored event's new form: its data and schema version, and
// the subject key to store with it.
type Rewrite struct {
	Data          []byte
	SchemaVersion int
	SubjectKey    *SubjectKey
}

// RewriteOlder rewrites, in place, every event of eventType whose schema
// version is below version, page by page, each page in one transaction with
// its subject keys. It is the one in-place change the store allows: sealing
// personal data written before encryption existed. It returns how many
// events it rewrote; run again, it finds none.
func (s *Store) RewriteOlder(ctx context.Context, eventType string, version int, fn func(RecordedEvent) (Rewrite, error)) (int, error) {
	total := 0
	for {
		n := 0
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			// The simple protocol sends the values inline, so the planner can
			// use a partial index (events_unsealed_idx) for them.
			rows, err := tx.Query(ctx, sqlSelectEvent+` WHERE type = $1 AND schema_version < $2 ORDER BY position LIMIT 1000 FOR UPDATE`,
				pgx.QueryExecModeSimpleProtocol, eventType, version)
			if err != nil {
				return err
			}
			events, err := collectEvents(rows)
			if err != nil {
				return err
			}
			var (
				positions []int64
				data      [][]byte
				versions  []int32
				subjects  []uuid.UUID
				wrapped   [][]byte
			)
			for _, e := range events {
				rw, err := fn(e)
				if err != nil {
					return fmt.Errorf("rewrite event %d: %w", e.Position, err)
				}
				positions, data, versions = append(positions, e.Position), append(data, rw.Data), append(versions, int32(rw.SchemaVersion))
				if rw.SubjectKey != nil {
					subjects, wrapped = append(subjects, rw.SubjectKey.Subject), append(wrapped, rw.SubjectKey.Wrapped)
				}
			}
			if len(positions) == 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE events e SET data = u.data, schema_version = u.sv
				FROM unnest($1::bigint[], $2::jsonb[], $3::int[]) AS u(pos, data, sv) WHERE e.position = u.pos`,
				positions, data, versions); err != nil {
				return err
			}
			if len(subjects) > 0 {
				if _, err := tx.Exec(ctx, sqlInsertSubjectKeys+` ON CONFLICT (participant_id) DO NOTHING`, UUIDArray(subjects), wrapped); err != nil {
					return err
				}
			}
			n = len(positions)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("rewrite %s: %w", eventType, err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}
