package projections

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/pgerr"
)

// A rebuild replays the event store — never Kafka, whose retention ends —
// into fresh tables in a shadow schema and swaps them in atomically:
//
//  1. replay: the settled prefix of the log (every position up to the head
//     at the start, once the transactions in flight then have ended) is
//     folded in memory and the participants are written with COPY into
//     tables that have no indexes yet;
//  2. index: the live tables' indexes and constraints are built, under the
//     live names, and what was kept in memory (counters, analytics, flags
//     of participants written earlier, winners, draw logs, positions) is
//     written;
//  3. catch-up: the events appended meanwhile are read with a gap-safe
//     eventstore.Tail and applied page by page, until little is left;
//  4. swap, in one transaction: the live tables are locked against the live
//     projectors' writes (queries still read them), the last events are
//     applied to the shadow tables by the live Projector code itself (its
//     SQL names tables unqualified, and search_path points at the shadow
//     schema first), the live tables are dropped, the shadow ones moved into
//     public, and the projections' de-duplication positions replaced.
//
// The live projectors keep consuming Kafka throughout. A projector
// transaction that waited for the swap then runs against the new tables,
// and the positions the rebuild recorded make it skip what the rebuild
// applied and apply what it did not: nothing is lost or applied twice. Until
// the swap commits the live tables are untouched, so an error or a
// cancellation (Ctrl-C) only drops the shadow schema.

// Rebuild phases, in order, as reported to RebuildOptions.Progress.
const (
	PhaseReplay  = "replay"
	PhaseIndex   = "index"
	PhaseCatchUp = "catch-up"
	PhaseSwap    = "swap"
)

// ErrRebuildRunning is returned when another rebuild holds the database.
var ErrRebuildRunning = errors.New("projections: another rebuild is running on this database")

// shadowPrefix names rebuild schemas; one left by a killed process is
// dropped by the next rebuild.
const shadowPrefix = "projections_rebuild_"

// RebuildOptions configures Rebuild.
type RebuildOptions struct {
	// Projections to rebuild (Names when empty).
	Projections []string
	// Verify compares the rebuilt tables with the live ones, under the
	// swap's locks, and reports the differences (RebuildReport.Diffs). The
	// live projectors' writes wait while it compares.
	Verify bool
	// DryRun builds (and verifies) but keeps the live tables.
	DryRun bool
	// PageSize is the events read per query (20,000 when zero).
	PageSize int
	// LockTimeout bounds each wait for a lock in the swap; the swap is then
	// retried (5s when zero).
	LockTimeout time.Duration
	// Progress, when set, is called as the rebuild advances.
	Progress func(RebuildProgress)
	// Publicize turns what the rebuild reads from the store into what the
	// relay publishes (privacy.Publicizer.Public): required, so that live
	// and rebuilt read models hold the same masked values.
	Publicize Publicize
	// ReplayPublicize, when set, is called once the replay's head is
	// settled and returns what the replay publicizes with instead of
	// Publicize: one that may hold every data key read in one scan
	// (app.ReplayPublicizer), as of a moment after that head. The catch-up
	// and the swap keep Publicize.
	ReplayPublicize func(context.Context) (Publicize, error)
	Logger          *slog.Logger
}

// RebuildProgress is where a rebuild stands.
type RebuildProgress struct {
	Phase    string
	Position int64 // the last position read
	Target   int64 // replay: the head it replays up to; later: the store's head when last read
	Events   int64 // events read so far
}

// RebuildReport says what a rebuild did.
type RebuildReport struct {
	Projections []ProjectionRebuild
	Events      int64 // events read from the store
	Position    int64 // the rebuilt tables stand at this position
	// Events read in the replay and the time it took (without the indexes).
	ReplayEvents int64
	Replay       time.Duration
	Index        time.Duration
	CatchUp      time.Duration // unlocked catch-up
	Swap         time.Duration // the swap transaction, locks held
	Total        time.Duration
	SwapAttempts int
	Swapped      bool
	// With Verify: each compared table, and the campaigns left out because
	// the live projectors had not reached the rebuild's position there.
	Diffs   []TableDiff
	Lagging []string
	// Poison counts events that no projection can apply (skipped, as live).
	Poison int64
}

// ProjectionRebuild is one projection's part of a rebuild.
type ProjectionRebuild struct {
	Name    string
	Applied int64 // events applied to its tables
}

// Differs reports whether Verify found a difference.
func (r RebuildReport) Differs() bool {
	return slices.ContainsFunc(r.Diffs, TableDiff.Differs)
}

// EventsPerSecond is the events read per second of the whole rebuild.
func (r RebuildReport) EventsPerSecond() float64 {
	return float64(r.Events) / max(r.Total.Seconds(), 1e-9)
}

// Rebuild rebuilds the chosen projections' read models from the event
// store and swaps them in. The schema must be migrated. See the comment at
// the top of rebuild.go for how it works.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, opts RebuildOptions) (RebuildReport, error) {
	start := time.Now()
	r, err := newRebuild(pool, opts)
	if err != nil {
		return RebuildReport{}, err
	}
	lock, err := pool.Acquire(ctx)
	if err != nil {
		return RebuildReport{}, fmt.Errorf("rebuild: %w", err)
	}
	defer lock.Release()
	var locked bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, shadowPrefix).Scan(&locked); err != nil {
		return RebuildReport{}, fmt.Errorf("rebuild: %w", err)
	}
	if !locked {
		return RebuildReport{}, ErrRebuildRunning
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := lock.Exec(unlockCtx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, shadowPrefix); err != nil {
			lock.Conn().Close(unlockCtx) // a closed session releases its locks
		}
	}()
	if err := r.dropLeftovers(ctx); err != nil {
		return RebuildReport{}, err
	}
	if err := r.createShadow(ctx); err != nil {
		r.dropShadow(ctx)
		return RebuildReport{}, err
	}
	defer r.dropShadow(ctx)

	if err := r.run(ctx); err != nil {
		return RebuildReport{}, err
	}
	r.report.Total = time.Since(start)
	r.report.Events = r.events
	r.report.Poison = r.poison
	for _, name := range r.names {
		r.report.Projections = append(r.report.Projections, ProjectionRebuild{Name: name, Applied: r.applied[name]})
	}
	return r.report, nil
}

func (r *rebuild) run(ctx context.Context) error {
	t := time.Now()
	if err := r.replay(ctx); err != nil {
		return err
	}
	r.report.Replay, r.report.ReplayEvents = time.Since(t), r.events

	t = time.Now()
	r.progress(PhaseIndex)
	if err := r.buildIndexes(ctx); err != nil {
		return err
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	r.report.Index = time.Since(t)

	// Positions up to the settled head that the replay did not see are
	// holes for good: the tail starts past them.
	r.tail = eventstore.New(r.pool).NewTail(max(r.position, r.head))
	for attempt := 1; ; attempt++ {
		t = time.Now()
		if err := r.catchUp(ctx); err != nil {
			return err
		}
		r.report.CatchUp += time.Since(t)
		t = time.Now()
		r.report.SwapAttempts = attempt
		err := r.swap(ctx)
		r.report.Swap = time.Since(t)
		if err == nil {
			return nil
		}
		// A swap that waited too long for a lock or lost a deadlock left
		// the shadow tables as before the attempt: it can run again.
		if !pgerr.Retry(err) || attempt == maxSwapAttempts || ctx.Err() != nil {
			return err
		}
		r.logger.WarnContext(ctx, "projections rebuild: swap retried", "attempt", attempt, "error", err)
	}
}

const maxSwapAttempts = 5

func newRebuild(pool *pgxpool.Pool, opts RebuildOptions) (*rebuild, error) {
	if opts.Publicize == nil {
		return nil, errors.New("projections: a rebuild needs Publicize (the relay's privacy.Publicizer)")
	}
	names := opts.Projections
	if len(names) == 0 {
		names = Names()
	}
	for _, n := range names {
		if !slices.Contains(Names(), n) {
			return nil, fmt.Errorf("projections: unknown projection %q (known: %v)", n, Names())
		}
	}
	// Names order, once each: the order the swap locks tables in.
	var ordered []string
	for _, n := range Names() {
		if slices.Contains(names, n) {
			ordered = append(ordered, n)
		}
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 20_000
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	r := &rebuild{
		pool: pool, opts: opts, logger: opts.Logger, names: ordered, keys: map[string]struct{}{}, applied: map[string]int64{},
		schema: shadowPrefix + hex.EncodeToString(suffix),
	}
	for _, n := range ordered {
		m, err := newModel(n, true)
		if err != nil {
			return nil, err
		}
		r.models = append(r.models, m)
		r.pos = append(r.pos, positions{})
		r.tables = append(r.tables, projectionTables[n]...)
	}
	return r, nil
}

// projectionTables are each projection's read model tables, in the order
// queries lock them (a query that reads two tables reads the first first),
// so that the swap, locking in the same order, cannot deadlock with one.
var projectionTables = map[string][]string{
	ParticipantsProjection: {"participant_counts", "participants"},
	WinnersProjection:      {"winners"},
	DrawLogProjection:      {"draw_log"},
	AnalyticsProjection:    {"analytics", "analytics_channels", "analytics_hours"},
	CampaignsProjection:    {"campaigns"},
}

// rebuild is one run of Rebuild.
type rebuild struct {
	pool   *pgxpool.Pool
	opts   RebuildOptions
	logger *slog.Logger
	names  []string
	tables []string // the read model tables of names
	schema string
	// reloptions are the live tables' storage parameters.
	reloptions map[string][]string

	// models are the read models in memory during the replay, with the
	// positions they reached; keys are the partition keys seen since the
	// positions were last written.
	models   []readModel
	pos      []positions
	keys     map[string]struct{}
	applied  map[string]int64
	scratch  []Event          // reused by foldBatch
	tail     *eventstore.Tail // the catch-up reader, after position
	head     int64            // the store's head when last known
	position int64            // the last position applied to the shadow tables
	events   int64
	poison   int64
	report   RebuildReport
}

func (r *rebuild) progress(phase string) {
	if r.opts.Progress != nil {
		r.opts.Progress(RebuildProgress{Phase: phase, Position: r.position, Target: r.head, Events: r.events})
	}
}

func (r *rebuild) ident(table string) string { return pgx.Identifier{r.schema, table}.Sanitize() }
