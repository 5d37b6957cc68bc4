package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Checkpoint returns a reader's durable position (0 when it has none).
func (s *Store) Checkpoint(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := s.pool.QueryRow(ctx, `SELECT position FROM checkpoints WHERE name = $1`, name).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return pos, nil
}

// SaveCheckpoint records a reader's position; it never moves backwards.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, position int64) error {
	return saveCheckpoint(ctx, s.pool, name, position)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// saveCheckpoint records a reader's position through db: in a transaction,
// the position moves together with the transaction's other writes (Park).
func saveCheckpoint(ctx context.Context, db execer, name string, position int64) error {
	_, err := db.Exec(ctx, `INSERT INTO checkpoints (name, position) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET position = GREATEST(checkpoints.position, EXCLUDED.position), updated_at = now()`,
		name, position)
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", name, err)
	}
	return nil
}

// ReadPositions returns the events at the given positions, in position order
// (positions without an event are left out).
func (s *Store) ReadPositions(ctx context.Context, positions []int64) ([]RecordedEvent, error) {
	rows, err := s.pool.Query(ctx, sqlSelectEvent+` WHERE position = ANY($1) ORDER BY position`, positions)
	if err != nil {
		return nil, fmt.Errorf("read positions: %w", err)
	}
	return collectEvents(rows)
}
