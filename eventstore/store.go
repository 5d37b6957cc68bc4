package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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

// AppendRequest is an append with every option.
type AppendRequest struct {
	Stream   string
	Expected ExpectedVersion
	Events   []EventData
	// Keys are unique keys claimed with the append, such as an entry number
	// per campaign; one already held fails the append with ErrDuplicateKey.
	Keys []string
	// Entry claims a registration's entry number, unique within its
	// campaign, like a key but with no row of its own: the draw candidate
	// its ParticipantRegistered event makes holds it (the event's
	// partition key is the campaign and its entryNumber is Number). One
	// already held fails the append with ErrDuplicateKey.
	Entry *EntryClaim
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
	// wrapped participant-id key, written with its CampaignOpened.
	CampaignKey *CampaignKey
	// Idempotency claims an Idempotency-Key with the append and stores the
	// answer for its outcome, in the append's transaction. A key another
	// request holds fails the append with ErrIdempotencyKeyTaken: nothing
	// is written, the caller looks the answer up.
	Idempotency *IdempotentWrite
}

// EntryClaim is an entry number within a campaign.
type EntryClaim struct {
	Campaign uuid.UUID
	Number   string
}

// keys are the request's unique keys, its entry number among them, for
// deciding within a batch who holds which.
func (r AppendRequest) keys() []string {
	if r.Entry == nil {
		return r.Keys
	}
	return append(slices.Clip(r.Keys), "\x00entry:"+r.Entry.Campaign.String()+":"+r.Entry.Number)
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

// AppendWith appends in a transaction of its own (see appendAll).
func (s *Store) AppendWith(ctx context.Context, req AppendRequest) (AppendResult, error) {
	return appendOne(ctx, s.pool, false, req)
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
	sqlFenceExclusive    = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`
	sqlInsertSubjectKeys = `INSERT INTO pii_keys (participant_id, wrapped) SELECT * FROM unnest($1::uuid[], $2::bytea[])`
)

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
		case "event_keys_pkey", "draw_candidates_entry_number_key":
			return ErrDuplicateKey
		default:
			return ErrWrongExpectedVersion
		}
	}
	return err
}

const sqlSelectEvent = `SELECT position, event_id, stream_id, stream_version, partition_key, type,
	schema_version, data, metadata, recorded_at FROM events`

// Tx is a transaction over the store, for work that must read and append
// atomically (the draw) or hold a transaction open on purpose (tests).
type Tx struct {
	tx   pgx.Tx
	pool *pgxpool.Pool // for a read split over two connections (DrawCandidates)
}

// Begin starts a transaction. Commit or Rollback it.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{tx: tx, pool: s.pool}, nil
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
		return fn(ctx, &Tx{tx: tx, pool: s.pool})
	})
	return mapError(err)
}

// Append appends inside the transaction (see AppendRequest).
func (t *Tx) Append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	return appendOne(ctx, t.tx, true, req)
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
