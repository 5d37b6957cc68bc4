package eventstore

import (
	"context"
	"fmt"
	"strings"
)

// FieldRow is an event's position, type and some top-level fields of its
// JSON data, as text ("" when absent).
type FieldRow struct {
	Position int64
	Type     string
	Fields   []string
}

// ReadPartitionFields is ReadPartition that returns only the named fields of
// each event's data, extracted by PostgreSQL: reading a million candidates
// for a draw then moves a few columns instead of whole events.
func (s *Store) ReadPartitionFields(ctx context.Context, partitionKey string, types []string, upTo int64, fields []string) ([]FieldRow, error) {
	return readPartitionFields(ctx, s.pool, partitionKey, types, upTo, fields)
}

// ReadPartitionFields reads inside the transaction (see Store.ReadPartitionFields).
func (t *Tx) ReadPartitionFields(ctx context.Context, partitionKey string, types []string, upTo int64, fields []string) ([]FieldRow, error) {
	return readPartitionFields(ctx, t.tx, partitionKey, types, upTo, fields)
}

func readPartitionFields(ctx context.Context, q querier, partitionKey string, types []string, upTo int64, fields []string) ([]FieldRow, error) {
	if upTo <= 0 {
		upTo = 1<<63 - 1
	}
	// Field names travel as parameters; only their placeholders are in the SQL.
	cols := make([]string, len(fields))
	args := []any{partitionKey, types, upTo}
	for i, f := range fields {
		args = append(args, f)
		cols[i] = fmt.Sprintf("coalesce(data->>$%d, '')", len(args))
	}
	sql := `SELECT position, type`
	if len(cols) > 0 {
		sql += ", " + strings.Join(cols, ", ")
	}
	sql += ` FROM events WHERE partition_key = $1 AND type = ANY($2) AND position <= $3 ORDER BY position`
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read partition %s: %w", partitionKey, err)
	}
	defer rows.Close()
	var out []FieldRow
	dest := make([]any, 2+len(fields))
	for rows.Next() {
		r := FieldRow{Fields: make([]string, len(fields))}
		dest[0], dest[1] = &r.Position, &r.Type
		for i := range r.Fields {
			dest[2+i] = &r.Fields[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read partition %s: %w", partitionKey, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read partition %s: %w", partitionKey, err)
	}
	return out, nil
}

// ReadStreamsOfType returns the events of the given type in the given
// streams, in position order.
func (t *Tx) ReadStreamsOfType(ctx context.Context, streams []string, eventType string) ([]RecordedEvent, error) {
	return readStreamsOfType(ctx, t.tx, streams, eventType)
}

// ReadStreamsOfType reads outside a transaction (see Tx.ReadStreamsOfType).
func (s *Store) ReadStreamsOfType(ctx context.Context, streams []string, eventType string) ([]RecordedEvent, error) {
	return readStreamsOfType(ctx, s.pool, streams, eventType)
}

func readStreamsOfType(ctx context.Context, q querier, streams []string, eventType string) ([]RecordedEvent, error) {
	rows, err := q.Query(ctx, sqlSelectEvent+` WHERE stream_id = ANY($1) AND type = $2 ORDER BY position`, streams, eventType)
	if err != nil {
		return nil, fmt.Errorf("read streams: %w", err)
	}
	return collectEvents(rows)
}
