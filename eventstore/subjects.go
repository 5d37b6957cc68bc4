package eventstore

import (
	"context"
	be "encoding/binary"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// SubjectKeys returns the wrapped data keys of the given subjects that
// still exist (an erased subject has none), in one query.
func (s *Store) SubjectKeys(ctx context.Context, subjects []uuid.UUID) (map[uuid.UUID][]byte, error) {
	return subjectKeys(ctx, s.pool, subjects)
}

// SubjectKeys reads inside the transaction (see Store.SubjectKeys).
func (t *Tx) SubjectKeys(ctx context.Context, subjects []uuid.UUID) (map[uuid.UUID][]byte, error) {
	return subjectKeys(ctx, t.tx, subjects)
}

func subjectKeys(ctx context.Context, q querier, subjects []uuid.UUID) (map[uuid.UUID][]byte, error) {
	out := make(map[uuid.UUID][]byte, len(subjects))
	if len(subjects) == 0 {
		return out, nil
	}
	// pgtype.UUID encodes in binary; uuid.UUID would go through its
	// driver.Valuer, a string per id, which the relay paid per batch.
	ids := make([]pgtype.UUID, len(subjects))
	for i, s := range subjects {
		ids[i] = pgtype.UUID{Bytes: s, Valid: true}
	}
	// An unnamed statement, planned for the table's size at each call: a
	// prepared one may keep a generic plan made while pii_keys was a few
	// rows (a fresh database, just analyzed), a scan of the whole table for
	// every relay batch for the connection's life.
	rows, err := q.Query(ctx, `SELECT participant_id, wrapped FROM pii_keys WHERE participant_id = ANY($1)`,
		pgx.QueryExecModeCacheDescribe, ids)
	if err != nil {
		return nil, fmt.Errorf("subject keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  pgtype.UUID
			key []byte
		)
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("subject keys: %w", err)
		}
		out[id.Bytes] = key
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("subject keys: %w", err)
	}
	return out, nil
}

// Candidate is a row of the store's inline draw_candidates projection.
type Candidate struct {
	ParticipantID uuid.UUID
	EntryNumber   string
	Visited       bool
	Erased        bool
	// LastPosition is the newest event applied to the row.
	LastPosition int64
}

// Candidates returns a partition's rows of draw_candidates: every
// registration, erased ones included (Erased). Inside a transaction under
// the partition's fence (Tx.Candidates) no append is in flight, and the
// highest LastPosition is the cut-off: replaying the partition's events up
// to it gives the same rows.
func (s *Store) Candidates(ctx context.Context, partitionKey string) ([]Candidate, error) {
	return candidates(ctx, s.pool, partitionKey)
}

// Candidates reads inside the transaction (see Store.Candidates).
func (t *Tx) Candidates(ctx context.Context, partitionKey string) ([]Candidate, error) {
	return candidates(ctx, t.tx, partitionKey)
}

func candidates(ctx context.Context, q querier, partitionKey string) ([]Candidate, error) {
	rows, err := q.Query(ctx, `SELECT participant_id, entry_number, visited, erased, last_position
		FROM draw_candidates WHERE event_id = $1`, partitionKey)
	if err != nil {
		return nil, fmt.Errorf("draw candidates: %w", err)
	}
	defer rows.Close()
	// A draw reads a million rows: the binary values are decoded here, which
	// costs a fraction of Scan's per-column dispatch.
	// (entry_number's bytes are the same in either format).
	binary := true
	for i, fd := range rows.FieldDescriptions() {
		binary = binary && (i == 1 || fd.Format == pgx.BinaryFormatCode)
	}
	var out []Candidate
	for rows.Next() {
		var c Candidate
		if v := rows.RawValues(); binary && len(v) == 5 && len(v[0]) == 16 && len(v[2]) == 1 && len(v[3]) == 1 && len(v[4]) == 8 {
			copy(c.ParticipantID[:], v[0])
			c.EntryNumber, c.Visited, c.Erased = string(v[1]), v[2][0] == 1, v[3][0] == 1
			c.LastPosition = int64(be.BigEndian.Uint64(v[4]))
		} else if err := rows.Scan(&c.ParticipantID, &c.EntryNumber, &c.Visited, &c.Erased, &c.LastPosition); err != nil {
			return nil, fmt.Errorf("draw candidates: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("draw candidates: %w", err)
	}
	return out, nil
}

// StreamVersions returns the versions of the given streams that exist.
func (s *Store) StreamVersions(ctx context.Context, streams []string) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.id, e.stream_version FROM unnest($1::text[]) AS s(id),
		LATERAL (SELECT stream_version FROM events WHERE stream_id = s.id ORDER BY stream_version DESC LIMIT 1) e`, streams)
	if err != nil {
		return nil, fmt.Errorf("stream versions: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int64, len(streams))
	for rows.Next() {
		var (
			id string
			v  int64
		)
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("stream versions: %w", err)
		}
		out[id] = v
	}
	return out, rows.Err()
}

// CampaignsOpened returns every CampaignOpened event, in position order
// (the partial index of migration 00011 finds them).
func (s *Store) CampaignsOpened(ctx context.Context) ([]RecordedEvent, error) {
	rows, err := s.pool.Query(ctx, sqlSelectEvent+` WHERE type = 'CampaignOpened' ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	return collectEvents(rows)
}
