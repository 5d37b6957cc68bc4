package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// Projection names. Each names a read model and, after
// ConsumerGroupPrefix, its Kafka consumer group: renaming one re-consumes
// the whole topic into that read model.
const (
	ParticipantsProjection = "participants"
	WinnersProjection      = "winners"
	DrawLogProjection      = "draw-log"
	AnalyticsProjection    = "analytics"
	CampaignsProjection    = "campaigns"
)

// ConsumerGroupPrefix prefixes a projection's name to give its consumer group.
const ConsumerGroupPrefix = "participation.projection."

// ConsumerGroup is the Kafka consumer group of a projection, e.g.
// "participation.projection.participants".
func ConsumerGroup(projection string) string { return ConsumerGroupPrefix + projection }

// Names lists every projection, in a fixed order.
func Names() []string {
	return []string{ParticipantsProjection, WinnersProjection, DrawLogProjection, AnalyticsProjection, CampaignsProjection}
}

// ErrPoison marks an event that can never be applied (undecodable data, an
// unknown event type). It is skipped and logged, so one bad message never
// blocks its partition.
var ErrPoison = errors.New("projections: event cannot be applied")

// Projector applies batches of events to one read model, each batch in one
// transaction together with the positions it reached per partition key. It
// is safe for concurrent use: two batches touching one key (two consumers
// of a partition during a rebalance) take turns on that key's position row,
// and the second skips what the first applied.
type Projector struct {
	name   string
	pool   *pgxpool.Pool
	logger *slog.Logger

	// seen is the highest position consumed (applied, skipped or ignored);
	// Flush writes it to projection_checkpoints, which is only for status
	// and lag: one row shared by every partition would serialize them.
	seen    atomic.Int64
	flushMu sync.Mutex
	flushed int64
}

// NewProjector returns the projector of the named read model (one of
// Names). The schema must be migrated (Migrate). It folds the messages as
// the relay published them (personal data masked) and opens nothing.
func NewProjector(name string, pool *pgxpool.Pool, logger *slog.Logger) (*Projector, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if _, err := newModel(name, false); err != nil {
		return nil, err
	}
	return &Projector{name: name, pool: pool, logger: logger}, nil
}

// NewProjectors returns a projector for every read model, in Names order.
func NewProjectors(pool *pgxpool.Pool, logger *slog.Logger) []*Projector {
	var out []*Projector
	for _, name := range Names() {
		p, err := NewProjector(name, pool, logger)
		if err != nil {
			panic(err) // every name of Names is known
		}
		out = append(out, p)
	}
	return out
}

// Name is the projection's name.
func (p *Projector) Name() string { return p.name }

// BatchResult says what ApplyBatch did.
type BatchResult struct {
	Applied int        // events that changed the read model
	Skipped []Poisoned // poison: skipped for good
}

// Apply applies one event (a batch of one). An error wrapping ErrPoison
// means the event was skipped for good; any other error means nothing was
// applied and the event should be retried.
func (p *Projector) Apply(ctx context.Context, e eventstore.RecordedEvent) error {
	r, err := p.ApplyBatch(ctx, []eventstore.RecordedEvent{e})
	if err != nil {
		return err
	}
	if len(r.Skipped) > 0 {
		return r.Skipped[0].Err
	}
	return nil
}

// ApplyBatch applies events, in order, in one transaction that commits
// durably before it returns: the caller may then acknowledge them. Events
// at or below the position already applied for their key change nothing.
// Poison events are skipped and reported; an error means nothing of the
// batch was applied and it should be retried as a whole.
func (p *Projector) ApplyBatch(ctx context.Context, recs []eventstore.RecordedEvent) (BatchResult, error) {
	batch := make([]decoded, len(recs))
	for i, rec := range recs {
		batch[i] = decodeRecord(rec)
	}
	return p.applyDecoded(ctx, batch)
}

// applyDecoded is ApplyBatch of events decoded already (the router's, once
// for every read model).
func (p *Projector) applyDecoded(ctx context.Context, batch []decoded) (BatchResult, error) {
	var (
		res    BatchResult
		events = make([]Event, 0, len(batch))
	)
	m, _ := newModel(p.name, false)
	last := int64(0)
	for _, d := range batch {
		rec := d.rec
		last = max(last, rec.Position)
		if d.err != nil && !errors.Is(d.err, domain.ErrUnknownEventType) && !m.handles(rec.Type) {
			continue // undecodable, but of a type this read model ignores anyway
		}
		if d.err != nil {
			res.Skipped = append(res.Skipped, Poisoned{Position: rec.Position, Key: rec.PartitionKey, Type: rec.Type, Err: d.err})
			continue
		}
		events = append(events, d.ev)
	}
	if !slices.ContainsFunc(events, func(e Event) bool { return m.handles(e.Type) }) {
		p.consumed(last)
		return res, nil // nothing for this read model: no transaction
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		applied, skipped, err := applyEvents(ctx, tx, p.name, "public", events)
		res.Applied, res.Skipped = applied, append(res.Skipped, skipped...)
		return err
	})
	if err != nil {
		return BatchResult{}, fmt.Errorf("%s: apply %d events: %w", p.name, len(batch), err)
	}
	// Only once committed: status must not say caught up while the
	// batch's transaction may still fail.
	p.consumed(last)
	return res, nil
}

// applyEvents applies events to the named read model inside tx, with the
// positions of their keys locked: the live path. The projector runs it on
// the public tables; a rebuild's catch-up and swap on its shadow tables
// (its search_path points there, for the loads).
func applyEvents(ctx context.Context, tx pgx.Tx, name, schema string, events []Event) (int, []Poisoned, error) {
	m, err := newModel(name, false)
	if err != nil {
		return 0, nil, err
	}
	var keys []string
	for _, e := range events {
		if m.handles(e.Type) && !slices.Contains(keys, e.Key) {
			keys = append(keys, e.Key)
		}
	}
	if len(keys) == 0 {
		return 0, nil, nil
	}
	// Sorted, so that two transactions lock the keys in one order.
	slices.Sort(keys)
	w := &writer{tx: tx, schema: schema, queue: &pgx.Batch{}}
	pos, err := lockPositions(ctx, w, name, keys)
	if err != nil {
		return 0, nil, err
	}
	applied, skipped, err := foldBatch(ctx, m, tx, pos, events, nil)
	if err != nil {
		return 0, nil, err
	}
	if err := m.flush(ctx, w, true); err != nil {
		return 0, nil, err
	}
	for _, id := range w.notify {
		if err := w.exec(ctx, `SELECT pg_notify($1, $2)`, AnalyticsChannel, id); err != nil {
			return 0, nil, err
		}
	}
	if err := writePositions(ctx, w, name, pos, keys); err != nil {
		return 0, nil, fmt.Errorf("%s: positions: %w", name, err)
	}
	if err := w.send(ctx); err != nil {
		return 0, nil, err
	}
	return applied, skipped, nil
}

// lockPositions reads, and locks until the transaction ends, the positions
// of keys (a missing one is 0), so that no other transaction applies
// events of these keys meanwhile.
func lockPositions(ctx context.Context, w *writer, name string, keys []string) (positions, error) {
	b := &pgx.Batch{}
	// Every lookup of a batch is by key, so its plan is an index probe
	// whatever the table's size. With sequential scans off, the generic
	// plan PostgreSQL keeps after five batches is that probe even when it
	// was made while a read model held a few rows (a fresh database, just
	// analyzed): kept, it would scan the grown table whole, every batch,
	// for the connection's life (the participants lookup did, 10 ms a batch
	// and growing). One plan per statement, not one per batch
	// (force_custom_plan planned every statement of every batch again).
	b.Queue(`SET LOCAL enable_seqscan = off`)
	// One statement: a missing row is inserted at 0, an existing one
	// "updated" to itself, which locks it and returns its position.
	b.Queue(`INSERT INTO `+w.table("projection_positions")+` AS p (projection, partition_key, position, updated_at)
		SELECT $1, k, 0, now() FROM unnest($2::text[]) AS k
		ON CONFLICT (projection, partition_key) DO UPDATE SET position = p.position
		RETURNING partition_key, position`, name, keys)
	br := w.tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("positions: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("positions: %w", err)
	}
	defer rows.Close()
	pos := positions{}
	for rows.Next() {
		var (
			k string
			v int64
		)
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("positions: %w", err)
		}
		pos[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("positions: %w", err)
	}
	return pos, br.Close()
}

func (p *Projector) consumed(position int64) {
	for {
		cur := p.seen.Load()
		if position <= cur || p.seen.CompareAndSwap(cur, position) {
			return
		}
	}
}

const sqlCheckpoint = `INSERT INTO projection_checkpoints AS c (projection, position, updated_at)
VALUES ($1, $2, now())
ON CONFLICT (projection) DO UPDATE SET position = greatest(c.position, EXCLUDED.position), updated_at = now()`

// Flush writes the highest position consumed so far to the projection's
// checkpoint (for Status and the lag gauge). The router's subscribers call
// it before each commit of Kafka offsets; callers of Apply (tests) call it
// when they are done.
func (p *Projector) Flush(ctx context.Context) error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	pos := p.seen.Load()
	if pos <= p.flushed {
		return nil
	}
	if _, err := p.pool.Exec(ctx, sqlCheckpoint, p.name, pos); err != nil {
		return fmt.Errorf("%s: checkpoint: %w", p.name, err)
	}
	p.flushed = pos
	return nil
}
