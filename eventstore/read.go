package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Reads: a stream, a campaign's partition, a stream by its unique key, the
// head of the store.

// ReadStream returns the stream's events in version order; an unknown
// stream has none.
func (s *Store) ReadStream(ctx context.Context, stream string) ([]RecordedEvent, error) {
	return readStream(ctx, s.pool, stream)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func readStream(ctx context.Context, q querier, stream string) ([]RecordedEvent, error) {
	rows, err := q.Query(ctx, sqlSelectEvent+` WHERE stream_id = $1 ORDER BY stream_version`, stream)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	return collectEvents(rows)
}

// ReadPartition returns the events of one partition key whose type is in
// types, in position order, up to and including position upTo (0: all).
func (s *Store) ReadPartition(ctx context.Context, partitionKey string, types []string, upTo int64) ([]RecordedEvent, error) {
	return readPartition(ctx, s.pool, partitionKey, types, upTo)
}

func readPartition(ctx context.Context, q querier, partitionKey string, types []string, upTo int64) ([]RecordedEvent, error) {
	if upTo <= 0 {
		upTo = 1<<63 - 1
	}
	rows, err := q.Query(ctx, sqlSelectEvent+` WHERE partition_key = $1 AND type = ANY($2) AND position <= $3 ORDER BY position`,
		partitionKey, types, upTo)
	if err != nil {
		return nil, fmt.Errorf("read partition %s: %w", partitionKey, err)
	}
	return collectEvents(rows)
}

// StreamByKey returns the stream that claimed key, or "" when none did.
func (s *Store) StreamByKey(ctx context.Context, key string) (string, error) {
	var stream string
	err := s.pool.QueryRow(ctx, `SELECT stream_id FROM event_keys WHERE key = $1`, key).Scan(&stream)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("stream by key: %w", err)
	}
	return stream, nil
}

// ParticipantByEntry returns the participant that registered in campaign
// with the entry number, or uuid.Nil when none did (see EntryClaim).
func (s *Store) ParticipantByEntry(ctx context.Context, campaign uuid.UUID, number string) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT participant_id FROM draw_candidates WHERE event_id = $1 AND entry_number = $2`,
		campaign.String(), number).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, nil
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("participant by entry: %w", err)
	}
	return id, nil
}

// StreamVersion returns the stream's current version (0 when it has none):
// its newest event's.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1`, stream).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("stream version: %w", err)
	}
	return v, nil
}

// Head is the highest position committed so far (0 when the store is empty).
// Lower positions may still be in flight; use a Tail to read gap-safely.
func (s *Store) Head(ctx context.Context) (int64, error) {
	var head int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head)
	if err != nil {
		return 0, fmt.Errorf("head: %w", err)
	}
	return head, nil
}

func collectEvents(rows pgx.Rows) ([]RecordedEvent, error) {
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("scan events: %w", err)
	}
	return events, nil
}

func scanEvent(row pgx.CollectableRow) (RecordedEvent, error) {
	var (
		e    RecordedEvent
		data []byte // scanned as bytes: into json.RawMessage pgx validates it with json.Unmarshal
		meta []byte
		at   time.Time
		sv   int32
		id   pgtype.UUID // binary; a uuid.UUID scans through a string (its sql.Scanner)
	)
	if err := row.Scan(&e.Position, &id, &e.StreamID, &e.StreamVersion, &e.PartitionKey, &e.Type,
		&sv, &data, &meta, &at); err != nil {
		return RecordedEvent{}, err
	}
	e.ID, e.Data = id.Bytes, data
	e.SchemaVersion = int(sv)
	e.RecordedAt = at
	if err := unmarshalMeta(meta, &e.Metadata); err != nil {
		return RecordedEvent{}, fmt.Errorf("event %d: %w", e.Position, err)
	}
	return e, nil
}

func unmarshalMeta(raw []byte, m *Metadata) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, m); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	return nil
}
