package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// Each read model is defined once, by a readModel: it folds a batch of
// events into row changes in memory and writes them. The live projector
// runs it on a batch of Kafka messages (one transaction, the public
// tables); a rebuild runs the very same code on pages of the event store
// (the shadow tables, new rows by COPY). Only the writer's schema and when
// it flushes differ.
type readModel interface {
	name() string
	handles(eventType string) bool
	// load reads what folding batch needs and the model does not hold yet:
	// the rows of the campaigns and participants the batch touches (live),
	// or data from outside the read model (the winners' registrations).
	// A rebuild's models hold their whole tables, so load reads little.
	load(ctx context.Context, db querier, batch []Event) error
	// fold applies one event to the rows in memory. It does no I/O.
	fold(e Event) error
	// flush writes the rows changed since the last flush. When final is
	// false (a rebuild's replay, into tables without indexes yet) it writes
	// only rows that are new and may keep the rest for a later flush.
	flush(ctx context.Context, w *writer, final bool) error
}

// querier is what load reads with: a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Event is a stored event decoded once, as the read models fold it.
type Event struct {
	Position      int64
	Key           string // partition key: the campaign
	Type          string
	RecordedAt    time.Time
	CorrelationID string
	Data          domain.Event
}

// decodeEvent decodes a stored event; an error wraps ErrPoison: the event
// can never be applied and is skipped.
func decodeEvent(rec eventstore.RecordedEvent) (Event, error) {
	ev, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrPoison, err)
	}
	return Event{Position: rec.Position, Key: rec.PartitionKey, Type: rec.Type, RecordedAt: rec.RecordedAt,
		CorrelationID: rec.Metadata.CorrelationID, Data: ev}, nil
}

// Publicize turns stored events into what may leave the store (personal
// data opened and masked: privacy.Publicizer.Public, what the relay
// publishes). A rebuild reads the store instead of the topic and folds its
// output, so it sees what the topic carries; the read models themselves
// never open or mask.
type Publicize func(context.Context, []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error)

// newModel returns a fresh read model. complete: it will see every event
// from the first (a rebuild), so what it does not hold does not exist.
func newModel(name string, complete bool) (readModel, error) {
	switch name {
	case ParticipantsProjection:
		return newParticipants(complete), nil
	case WinnersProjection:
		return &winners{}, nil
	case DrawLogProjection:
		return &drawLog{}, nil
	case AnalyticsProjection:
		return newAnalytics(), nil
	case CampaignsProjection:
		return newCampaigns(), nil
	}
	return nil, fmt.Errorf("projections: unknown projection %q", name)
}

// writer writes row changes into one schema's tables, inside tx.
type writer struct {
	tx     pgx.Tx
	schema string // "public" live; the shadow schema in a rebuild
	notify []string
	// queue, when set, collects the statements for send (the live path
	// sends them in one round trip before the commit).
	queue *pgx.Batch
	// copies, when set, takes the COPYs to run in the background (nothing
	// else may use tx meanwhile); copyFailed closes when one failed.
	copies     chan<- copyJob
	copyFailed <-chan struct{}
}

func (w *writer) table(name string) string { return pgx.Identifier{w.schema, name}.Sanitize() }

func (w *writer) exec(ctx context.Context, sql string, args ...any) error {
	if w.queue != nil {
		w.queue.Queue(sql, args...)
		return nil
	}
	_, err := w.tx.Exec(ctx, sql, args...)
	return err
}

// send runs the statements queued, in one round trip.
func (w *writer) send(ctx context.Context) error {
	if w.queue == nil || w.queue.Len() == 0 {
		return nil
	}
	b := w.queue
	w.queue = &pgx.Batch{}
	return w.tx.SendBatch(ctx, b).Close()
}

func (w *writer) copyFrom(ctx context.Context, sql string, data []byte) error {
	if err := w.send(ctx); err != nil { // what was queued comes first
		return err
	}
	if w.copies != nil {
		select {
		case w.copies <- copyJob{sql: sql, data: data}:
			return nil
		case <-w.copyFailed:
			return errors.New("an earlier COPY failed")
		}
	}
	_, err := w.tx.Conn().PgConn().CopyFrom(ctx, &byteReader{b: data}, sql)
	return err
}

// copyJob is a COPY that a rebuild's replay runs in the background, so
// that PostgreSQL writes one page while the next is folded.
type copyJob struct {
	sql  string
	data []byte
}

// positions is, per partition key, the last position a read model applied:
// a campaign's events come in position order, so an event at or below it
// is a redelivery (or a duplicate) and changes nothing.
type positions map[string]int64

// admit reports whether e is new for its key and, if so, records it.
func (p positions) admit(e Event) bool {
	if e.Position <= p[e.Key] {
		return false
	}
	p[e.Key] = e.Position
	return true
}

// foldBatch folds the events m handles and admits, in order. A fold error
// is a poison event: skipped, reported in skipped, never retried. buf, when
// given, is reused for the events folded (a rebuild folds a million).
func foldBatch(ctx context.Context, m readModel, db querier, pos positions, events []Event, buf *[]Event) (applied int, skipped []Poisoned, err error) {
	var batch []Event
	if buf != nil {
		batch = (*buf)[:0]
		defer func() { *buf = batch[:0] }()
	}
	for _, e := range events {
		if m.handles(e.Type) && pos.admit(e) {
			batch = append(batch, e)
		}
	}
	if len(batch) == 0 {
		return 0, nil, nil
	}
	if err := m.load(ctx, db, batch); err != nil {
		return 0, nil, fmt.Errorf("%s: load: %w", m.name(), err)
	}
	for _, e := range batch {
		if err := m.fold(e); err != nil {
			skipped = append(skipped, Poisoned{Position: e.Position, Key: e.Key, Type: e.Type, Err: fmt.Errorf("%w: %w", ErrPoison, err)})
			continue
		}
		applied++
	}
	return applied, skipped, nil
}

// Poisoned is an event skipped for good.
type Poisoned struct {
	Position int64
	Key      string
	Type     string
	Err      error
}

// writePositions upserts the positions of keys into w's projection_positions.
func writePositions(ctx context.Context, w *writer, name string, pos positions, keys []string) error {
	keys = slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return pos[k] == 0 })
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	values := make([]int64, len(keys))
	for i, k := range keys {
		values[i] = pos[k]
	}
	return w.exec(ctx, `INSERT INTO `+w.table("projection_positions")+` AS p (projection, partition_key, position, updated_at)
		SELECT $1, k, v, now() FROM unnest($2::text[], $3::bigint[]) AS u(k, v)
		ON CONFLICT (projection, partition_key) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
		WHERE p.position < EXCLUDED.position`, name, keys, values)
}

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
