package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/internal/pgerr"
)

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store over pool. The schema must be migrated (Migrate).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool exposes the pool for packages that keep their own tables in the same
// database (projections, checkpoints).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// AppendRequest is an append with every option.
type AppendRequest struct {
	Stream   string
	Expected ExpectedVersion
	Events   []EventData
	// Keys are unique keys claimed with the append, such as an entry number
	// per campaign; one already held fails the append with ErrDuplicateKey.
	Keys []string
	// Fence serializes this append against an Exclusive section of the same
	// fence: the append waits while the section runs, and the section waits
	// for appends in flight. Appends sharing a fence do not wait for each other.
	Fence string
	// ClosedBy names a stream whose existence refuses the append with
	// ErrClosed (a campaign's draw stream closes its registration). It is
	// checked under the fence, so it cannot race the section that creates it.
	ClosedBy string
	// SubjectKey is stored in pii_keys with the append: a participant's
	// wrapped data key, written with its registration.
	SubjectKey *SubjectKey
	// Shred deletes this subject's key in the append's transaction: the
	// erasure and its event commit together or not at all. The subject's
	// idempotency answers go with it.
	Shred uuid.UUID
	// CampaignKey is stored in campaign_keys with the append: a campaign's
	// wrapped participant-id key, written with its CampaignOpened. Only
	// Append, AppendWith and Tx.Append take it.
	CampaignKey *CampaignKey
}

// CampaignKey is a campaign's wrapped participant-id key.
type CampaignKey struct {
	Campaign uuid.UUID
	Wrapped  []byte
}

// SubjectKey is a data subject's wrapped data key.
type SubjectKey struct {
	Subject uuid.UUID
	Wrapped []byte
}

// Append appends events to stream atomically if the stream is at expected.
func (s *Store) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error) {
	return s.AppendWith(ctx, AppendRequest{Stream: stream, Expected: expected, Events: events})
}

// AppendWith appends in a transaction of its own.
func (s *Store) AppendWith(ctx context.Context, req AppendRequest) (AppendResult, error) {
	if err := req.validate(); err != nil {
		return AppendResult{}, err
	}
	return s.appendPipelined(ctx, req)
}

// appendPipelined sends the whole append as one pipelined batch, run by
// PostgreSQL as one implicit transaction: one round trip. Every check that
// can fail raises an error (a unique violation, or ES001/ES002 from the
// schema's functions), which aborts the transaction and is mapped back.
func (s *Store) appendPipelined(ctx context.Context, req AppendRequest) (AppendResult, error) {
	n := int64(len(req.Events))
	cols, err := columnsOf(req.Events)
	if err != nil {
		return AppendResult{}, err
	}
	batch := &pgx.Batch{}
	if req.Fence != "" {
		batch.Queue(sqlFenceShared, req.Fence)
	}
	if req.ClosedBy != "" {
		batch.Queue(`SELECT eventstore_assert_absent($1::text[])`, []string{req.ClosedBy})
	}
	// The stream row comes first: it gives the transaction its xid before
	// the events draw their positions (see tail.go).
	switch {
	case req.Expected == Any:
		batch.Queue(sqlClaimAny, req.Stream, n)
	case req.Expected == NoStream:
		batch.Queue(`INSERT INTO streams (stream_id, version) VALUES ($1, $2)`, req.Stream, n)
	default:
		batch.Queue(`SELECT eventstore_claim_exact($1, $2, $3)`, req.Stream, int64(req.Expected), int64(req.Expected)+n)
	}
	if len(req.Keys) > 0 {
		batch.Queue(`INSERT INTO event_keys (key, stream_id) SELECT unnest($1::text[]), $2`, req.Keys, req.Stream)
	}
	if k := req.SubjectKey; k != nil {
		batch.Queue(sqlInsertSubjectKeys, pgUUID(k.Subject), [][]byte{k.Wrapped})
	}
	if req.Shred != uuid.Nil {
		batch.Queue(sqlShred, pgUUID(req.Shred))
		batch.Queue(sqlShredAnswers, pgUUID(req.Shred))
	}
	if k := req.CampaignKey; k != nil {
		batch.Queue(sqlInsertCampaignKey, pgtype.UUID{Bytes: k.Campaign, Valid: true}, k.Wrapped)
	}
	batch.Queue(`INSERT INTO events
		(position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
		SELECT nextval('events_position_seq'), pg_current_xact_id(), e.id, $1, v.version - $2 + e.ord, e.pkey, e.type, e.sv, e.data, e.meta
		FROM (SELECT version FROM streams WHERE stream_id = $1) AS v,
			unnest($3::uuid[], $4::text[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
				WITH ORDINALITY AS e(id, pkey, type, sv, data, meta, ord)
		RETURNING position, stream_version`,
		req.Stream, n, cols.ids, cols.keys, cols.types, cols.versions, cols.data, cols.meta)

	type row struct{ Position, Version int64 }
	rows, err := sendPipeline(ctx, s.pool, batch, pgx.RowToStructByPos[row])
	var res AppendResult
	for _, r := range rows {
		res.Positions = append(res.Positions, r.Position)
		res.NextExpectedVersion = r.Version
	}
	if err != nil {
		return AppendResult{}, mapError(err)
	}
	return res, nil
}

func (r AppendRequest) validate() error {
	if r.Stream == "" {
		return errors.New("eventstore: empty stream id")
	}
	if len(r.Events) == 0 {
		return errors.New("eventstore: no events to append")
	}
	if r.Expected < Any {
		return fmt.Errorf("eventstore: invalid expected version %d", r.Expected)
	}
	for i, e := range r.Events {
		if e.Type == "" {
			return fmt.Errorf("eventstore: event %d has no type", i)
		}
	}
	return nil
}

const (
	sqlFenceShared    = `SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))`
	sqlFenceExclusive = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`
	sqlStreamExists   = `SELECT EXISTS (SELECT 1 FROM streams WHERE stream_id = $1)`

	// Claiming the stream row first gives the transaction its xid before any
	// position is drawn from the sequence: the tail relies on that order.
	sqlClaimNew   = `INSERT INTO streams (stream_id, version) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING version`
	sqlClaimExact = `UPDATE streams SET version = $3 WHERE stream_id = $1 AND version = $2 RETURNING version`
	sqlClaimAny   = `INSERT INTO streams (stream_id, version) VALUES ($1, $2)
		ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + EXCLUDED.version RETURNING version`

	sqlInsertSubjectKeys = `INSERT INTO pii_keys (participant_id, wrapped) SELECT * FROM unnest($1::uuid[], $2::bytea[])`
	sqlShred             = `DELETE FROM pii_keys WHERE participant_id = ANY($1)`
	// sqlShredAnswers runs after sqlShred, in a statement of its own: the
	// data key's row lock orders it after a Complete that stored a subject
	// (IdempotencyKeys.Complete), whose row its fresh snapshot then sees.
	sqlShredAnswers = `DELETE FROM idempotency_keys WHERE subject = ANY($1)`

	sqlClaimKeys = `INSERT INTO event_keys (key, stream_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`

	// WITH ORDINALITY keeps the input order, so positions rise with versions.
	sqlInsertEvents = `INSERT INTO events
		(position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
		SELECT nextval('events_position_seq'), pg_current_xact_id(), e.id, $1, $2 + e.ord, e.pkey, e.type, e.sv, e.data, e.meta
		FROM unnest($3::uuid[], $4::text[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
			WITH ORDINALITY AS e(id, pkey, type, sv, data, meta, ord)
		RETURNING position`
)

// appendInTx runs one append inside tx. Conflicts are reported as errors
// without relying on an aborted statement where it can be avoided.
func appendInTx(ctx context.Context, tx pgx.Tx, req AppendRequest) (AppendResult, error) {
	if req.Fence != "" {
		if _, err := tx.Exec(ctx, sqlFenceShared, req.Fence); err != nil {
			return AppendResult{}, fmt.Errorf("fence: %w", err)
		}
	}
	if req.ClosedBy != "" {
		var closed bool
		if err := tx.QueryRow(ctx, sqlStreamExists, req.ClosedBy).Scan(&closed); err != nil {
			return AppendResult{}, fmt.Errorf("check %s: %w", req.ClosedBy, err)
		}
		if closed {
			return AppendResult{}, ErrClosed
		}
	}

	n := int64(len(req.Events))
	var row pgx.Row
	switch {
	case req.Expected == Any:
		row = tx.QueryRow(ctx, sqlClaimAny, req.Stream, n)
	case req.Expected == NoStream:
		row = tx.QueryRow(ctx, sqlClaimNew, req.Stream, n)
	default:
		row = tx.QueryRow(ctx, sqlClaimExact, req.Stream, int64(req.Expected), int64(req.Expected)+n)
	}
	var next int64
	if err := row.Scan(&next); errors.Is(err, pgx.ErrNoRows) {
		return AppendResult{}, ErrWrongExpectedVersion
	} else if err != nil {
		return AppendResult{}, fmt.Errorf("claim stream %s: %w", req.Stream, err)
	}

	if len(req.Keys) > 0 {
		tag, err := tx.Exec(ctx, sqlClaimKeys, req.Keys, req.Stream)
		if err != nil {
			return AppendResult{}, fmt.Errorf("claim keys: %w", err)
		}
		if tag.RowsAffected() != int64(len(req.Keys)) {
			return AppendResult{}, ErrDuplicateKey
		}
	}

	if k := req.SubjectKey; k != nil {
		if _, err := tx.Exec(ctx, sqlInsertSubjectKeys, pgUUID(k.Subject), [][]byte{k.Wrapped}); err != nil {
			return AppendResult{}, fmt.Errorf("store subject key: %w", err)
		}
	}
	if req.Shred != uuid.Nil {
		if _, err := tx.Exec(ctx, sqlShred, pgUUID(req.Shred)); err != nil {
			return AppendResult{}, fmt.Errorf("shred: %w", err)
		}
		if _, err := tx.Exec(ctx, sqlShredAnswers, pgUUID(req.Shred)); err != nil {
			return AppendResult{}, fmt.Errorf("shred: %w", err)
		}
	}
	if k := req.CampaignKey; k != nil {
		if _, err := tx.Exec(ctx, sqlInsertCampaignKey, pgtype.UUID{Bytes: k.Campaign, Valid: true}, k.Wrapped); err != nil {
			return AppendResult{}, fmt.Errorf("store campaign key: %w", err)
		}
	}
	cols, err := columnsOf(req.Events)
	if err != nil {
		return AppendResult{}, err
	}
	rows, err := tx.Query(ctx, sqlInsertEvents, req.Stream, next-n,
		cols.ids, cols.keys, cols.types, cols.versions, cols.data, cols.meta)
	if err != nil {
		return AppendResult{}, fmt.Errorf("insert events: %w", err)
	}
	positions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return AppendResult{}, fmt.Errorf("insert events: %w", err)
	}
	return AppendResult{NextExpectedVersion: next, Positions: positions}, nil
}

type eventColumns struct {
	ids      []pgtype.UUID // binary (see pgUUIDs)
	keys     []string
	types    []string
	versions []int32
	data     [][]byte
	meta     [][]byte
}

func columnsOf(events []EventData) (eventColumns, error) {
	c := eventColumns{
		ids:      make([]pgtype.UUID, len(events)),
		keys:     make([]string, len(events)),
		types:    make([]string, len(events)),
		versions: make([]int32, len(events)),
		data:     make([][]byte, len(events)),
		meta:     make([][]byte, len(events)),
	}
	for i, e := range events {
		id := e.ID
		if id == uuid.Nil {
			id = uuid.New()
		}
		c.ids[i] = pgtype.UUID{Bytes: id, Valid: true}
		c.keys[i] = e.PartitionKey
		c.types[i] = e.Type
		c.versions[i] = int32(max(e.SchemaVersion, 1))
		c.data[i] = e.Data
		if len(e.Data) == 0 {
			c.data[i] = []byte("{}")
		}
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return eventColumns{}, fmt.Errorf("metadata: %w", err)
		}
		c.meta[i] = meta
	}
	return c, nil
}

// mapError turns unique violations into the concurrency errors callers match.
func mapError(err error) error {
	pgErr, _ := pgerr.As(err)
	if pgerr.Is(err, codeClosed) {
		return ErrClosed
	}
	if pgerr.Is(err, codeWrongVersion) {
		return ErrWrongExpectedVersion
	}
	if pgerr.Is(err, pgerr.UniqueViolation) {
		switch pgErr.ConstraintName {
		case "events_event_id_key":
			return fmt.Errorf("%w: %s", ErrDuplicateEventID, pgErr.Detail)
		case "event_keys_pkey":
			return ErrDuplicateKey
		default:
			return ErrWrongExpectedVersion
		}
	}
	return err
}

const sqlSelectEvent = `SELECT position, event_id, stream_id, stream_version, partition_key, type,
	schema_version, data, metadata, recorded_at FROM events`

// sendPipeline sends batch in one round trip, run by PostgreSQL as one
// implicit transaction, and collects the rows of its last query. The first
// error, which aborted the transaction, is returned.
func sendPipeline[T any](ctx context.Context, pool *pgxpool.Pool, batch *pgx.Batch, scan pgx.RowToFunc[T]) ([]T, error) {
	results := pool.SendBatch(ctx, batch)
	var (
		out []T
		err error
	)
	for q := range batch.Len() {
		if q < batch.Len()-1 {
			_, err = results.Exec()
		} else {
			var rows pgx.Rows
			if rows, err = results.Query(); err == nil {
				out, err = pgx.CollectRows(rows, scan)
			}
		}
		if err != nil {
			break
		}
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	return out, err
}

// Tx is a transaction over the store, for work that must read and append
// atomically (the draw) or hold a transaction open on purpose (tests).
type Tx struct {
	tx pgx.Tx
}

// Begin starts a transaction. Commit or Rollback it.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{tx: tx}, nil
}

// Exclusive runs fn in a transaction that holds fence exclusively: appends
// with the same fence that were in flight have committed or failed before
// fn starts, and new ones wait until the transaction ends. fn's error rolls
// the transaction back.
func (s *Store) Exclusive(ctx context.Context, fence string, fn func(ctx context.Context, tx *Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlFenceExclusive, fence); err != nil {
			return fmt.Errorf("fence: %w", err)
		}
		return fn(ctx, &Tx{tx: tx})
	})
	return mapError(err)
}

// Append appends inside the transaction (see AppendRequest).
func (t *Tx) Append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	if err := req.validate(); err != nil {
		return AppendResult{}, err
	}
	res, err := appendInTx(ctx, t.tx, req)
	return res, mapError(err)
}

// ReadStream reads a stream inside the transaction.
func (t *Tx) ReadStream(ctx context.Context, stream string) ([]RecordedEvent, error) {
	return readStream(ctx, t.tx, stream)
}

// ReadPartition reads a partition inside the transaction (see Store.ReadPartition).
func (t *Tx) ReadPartition(ctx context.Context, partitionKey string, types []string, upTo int64) ([]RecordedEvent, error) {
	return readPartition(ctx, t.tx, partitionKey, types, upTo)
}

// Commit commits the transaction.
func (t *Tx) Commit(ctx context.Context) error { return mapError(t.tx.Commit(ctx)) }

// Rollback rolls the transaction back; after Commit it does nothing.
func (t *Tx) Rollback(ctx context.Context) error {
	if err := t.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}
