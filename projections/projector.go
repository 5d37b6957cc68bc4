package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// Projection names. Each names a read model's router handler and, after
// ConsumerGroupPrefix, its Kafka consumer group: renaming one re-consumes
// the whole topic into that read model.
const (
	ParticipantsProjection = "participants"
	WinnersProjection      = "winners"
	DrawLogProjection      = "draw-log"
	AnalyticsProjection    = "analytics"
)

// ConsumerGroupPrefix prefixes a projection's name to give its consumer group.
const ConsumerGroupPrefix = "participation.projection."

// ConsumerGroup is the Kafka consumer group of a projection, e.g.
// "participation.projection.participants".
func ConsumerGroup(projection string) string { return ConsumerGroupPrefix + projection }

// Names lists every projection, in a fixed order.
func Names() []string {
	return []string{ParticipantsProjection, WinnersProjection, DrawLogProjection, AnalyticsProjection}
}

// ErrPoison marks an event that can never be applied (undecodable data, an
// unknown event type). Apply skips it: the caller logs it and moves on, so
// one bad message never blocks its partition.
var ErrPoison = errors.New("projections: event cannot be applied")

// Projector applies events to one read model. It is safe for concurrent use
// by events of different partition keys; events of one key must be applied
// in position order (Kafka delivers them so).
type Projector struct {
	name   string
	pool   *pgxpool.Pool
	model  readModel
	logger *slog.Logger

	// seen is the highest position consumed (applied, skipped or ignored);
	// Flush writes it to projection_checkpoints. The checkpoint is only for
	// status and lag, so it is written every second or so instead of in
	// each event's transaction, where one row shared by every partition
	// would serialize them.
	seen    atomic.Int64
	flushMu sync.Mutex
	flushed int64
}

// readModel is what differs between projections.
type readModel interface {
	handles(eventType string) bool
	// plan reads whatever it needs outside the transaction and returns the
	// writes of one event; they run after the event has been claimed.
	plan(ctx context.Context, e eventstore.RecordedEvent, ev domain.Event) (write, error)
}

type write func(ctx context.Context, tx pgx.Tx) error

// NewProjector returns the projector of the named read model (one of
// Names). The schema must be migrated (Migrate).
func NewProjector(name string, pool *pgxpool.Pool, logger *slog.Logger, publicize ...Publicize) (*Projector, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var m readModel
	switch name {
	case ParticipantsProjection:
		m = participantsModel{}
	case WinnersProjection:
		m = winnersModel{store: eventstore.New(pool), logger: logger}
		if len(publicize) > 0 {
			m = winnersModel{store: eventstore.New(pool), publicize: publicize[0], logger: logger}
		}
	case DrawLogProjection:
		m = drawLogModel{}
	case AnalyticsProjection:
		m = analyticsModel{}
	default:
		return nil, fmt.Errorf("projections: unknown projection %q", name)
	}
	return &Projector{name: name, pool: pool, model: m, logger: logger}, nil
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

// Outcome says what Apply did with an event.
type Outcome int

const (
	// Applied: the read model changed.
	Applied Outcome = iota + 1
	// Duplicate: the event (or a later one of its partition key) was applied before.
	Duplicate
	// Ignored: the read model does not use this event type.
	Ignored
	// Poison: the event can never be applied; the error wraps ErrPoison.
	Poison
)

func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case Ignored:
		return "ignored"
	case Poison:
		return "poison"
	}
	return "unknown"
}

// Apply applies one event in one transaction together with its
// de-duplication record: an event at or below the position last applied
// for its partition key changes nothing. An error wrapping ErrPoison means
// the event was skipped for good; any other error means nothing was applied
// and the event should be retried.
func (p *Projector) Apply(ctx context.Context, e eventstore.RecordedEvent) error {
	_, err := p.ApplyOutcome(ctx, e)
	return err
}

// ApplyOutcome is Apply that also says what happened. The claim and the
// writes go to PostgreSQL in one pipelined batch, one implicit transaction:
// one round trip per event instead of four.
func (p *Projector) ApplyOutcome(ctx context.Context, e eventstore.RecordedEvent) (Outcome, error) {
	w, outcome, err := p.prepare(ctx, e)
	if w == nil {
		return outcome, err
	}
	var rec recordingTx
	if err := w(ctx, &rec); err != nil {
		return p.written(e, false, err)
	}
	batch := &pgx.Batch{}
	batch.Queue(`SELECT projection_claim($1, $2, $3)`, p.name, e.PartitionKey, e.Position)
	for _, q := range rec.queued {
		batch.Queue(q.sql, q.args...)
	}
	results := p.pool.SendBatch(ctx, batch)
	for range batch.Len() {
		if _, err = results.Exec(); err != nil {
			break
		}
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == codeAlreadyApplied {
		return p.written(e, false, nil)
	}
	return p.written(e, true, err)
}

// codeAlreadyApplied is the SQLSTATE projection_claim raises for a duplicate.
const codeAlreadyApplied = "PJ001"

// recordingTx collects a read model's writes so that they can be sent in one
// batch with the claim. The models' writes only Exec and ignore the tag; any
// other method of pgx.Tx is not available here.
type recordingTx struct {
	pgx.Tx
	queued []queuedQuery
}

type queuedQuery struct {
	sql  string
	args []any
}

func (r *recordingTx) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.queued = append(r.queued, queuedQuery{sql: sql, args: args})
	return pgconn.CommandTag{}, nil
}

// applyIn is ApplyOutcome inside the caller's transaction, which resolves
// the read models' unqualified table names (a rebuild points search_path at
// its shadow tables). The caller commits.
func (p *Projector) applyIn(ctx context.Context, tx pgx.Tx, e eventstore.RecordedEvent) (Outcome, error) {
	w, outcome, err := p.prepare(ctx, e)
	if w == nil {
		return outcome, err
	}
	claimed, err := p.write(ctx, tx, e, w)
	return p.written(e, claimed, err)
}

// prepare decodes and plans an event; a nil write means there is nothing
// to apply and says why.
func (p *Projector) prepare(ctx context.Context, e eventstore.RecordedEvent) (write, Outcome, error) {
	if !knownType(e.Type) {
		p.consumed(e.Position)
		return nil, Poison, fmt.Errorf("%w: %w: %q", ErrPoison, domain.ErrUnknownEventType, e.Type)
	}
	if !p.model.handles(e.Type) {
		p.consumed(e.Position)
		return nil, Ignored, nil
	}
	ev, err := domain.DecodeEvent(e.Type, e.Data)
	if err != nil {
		p.consumed(e.Position)
		return nil, Poison, fmt.Errorf("%w: %w", ErrPoison, err)
	}
	w, err := p.model.plan(ctx, e, ev)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: plan %s at %d: %w", p.name, e.Type, e.Position, err)
	}
	return w, 0, nil
}

// write claims the event's position and, when it was not applied before,
// runs the event's writes.
func (p *Projector) write(ctx context.Context, tx pgx.Tx, e eventstore.RecordedEvent, w write) (bool, error) {
	claimed, err := claim(ctx, tx, p.name, e.PartitionKey, e.Position)
	if err != nil || !claimed {
		return false, err
	}
	return true, w(ctx, tx)
}

func (p *Projector) written(e eventstore.RecordedEvent, claimed bool, err error) (Outcome, error) {
	if err != nil {
		return 0, fmt.Errorf("%s: apply %s at %d: %w", p.name, e.Type, e.Position, err)
	}
	p.consumed(e.Position)
	if !claimed {
		return Duplicate, nil
	}
	return Applied, nil
}

// The de-duplication record: the row is locked until the transaction ends,
// so two consumers of one partition (a rebalance) apply an event once.
const sqlClaim = `INSERT INTO projection_positions AS p (projection, partition_key, position, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (projection, partition_key) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
WHERE p.position < EXCLUDED.position
RETURNING true`

func claim(ctx context.Context, tx pgx.Tx, projection, key string, position int64) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, sqlClaim, projection, key, position).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim position: %w", err)
	}
	return ok, nil
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
// checkpoint (for Status and the lag gauge). The router flushes every
// second; callers of Apply (tests, a rebuild) call it when they are done.
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

func knownType(t string) bool {
	switch t {
	case domain.TypeCampaignOpened, domain.TypeParticipantRegistered,
		domain.TypeStoreVisitRecorded, domain.TypeWinnersDrawn:
		return true
	}
	return false
}
