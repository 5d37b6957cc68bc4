package projections

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/eventstore"
)

// ProjectionStatus is how far one projection has got.
type ProjectionStatus struct {
	Name      string
	Position  int64     // the last position consumed (0: none yet)
	UpdatedAt time.Time // when Position last moved (zero: never)
	Head      int64     // the event store's highest position
	Lag       int64     // Head - Position, never negative
	// LagTime is how long the oldest event not consumed yet has been in
	// the store (0 when Lag is 0).
	LagTime time.Duration
	// Stuck is how long the position has not moved while an event was
	// waiting for it: since UpdatedAt, or since that event was recorded
	// when it came later (a projection with nothing to do is not stuck).
	// 0 when Lag is 0.
	Stuck time.Duration
}

// Stalled reports whether the projection is behind and its position has
// not moved for longer than after while events were waiting.
func (s ProjectionStatus) Stalled(after time.Duration) bool { return s.Lag > 0 && s.Stuck > after }

// Status returns every projection's checkpoint against the store's head, in
// Names order. A checkpoint is written before each commit of Kafka offsets
// (every second), so it counts every message Kafka will not deliver again.
func Status(ctx context.Context, pool *pgxpool.Pool) ([]ProjectionStatus, error) {
	store := eventstore.New(pool)
	head, err := store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	// The positions applied are exact (written with each event); the
	// checkpoint adds the events a projection ignores, written before each
	// Kafka commit.
	rows, err := pool.Query(ctx, `SELECT projection, max(position), max(updated_at) FROM (
		SELECT projection, position, updated_at FROM projection_checkpoints
		UNION ALL
		SELECT projection, max(position), max(updated_at) FROM projection_positions GROUP BY projection
	) s GROUP BY projection`)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	defer rows.Close()
	type checkpoint struct {
		position int64
		at       time.Time
	}
	found := map[string]checkpoint{}
	for rows.Next() {
		var (
			name string
			c    checkpoint
		)
		if err := rows.Scan(&name, &c.position, &c.at); err != nil {
			return nil, fmt.Errorf("projection status: %w", err)
		}
		found[name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	var out []ProjectionStatus
	for _, name := range Names() {
		c := found[name]
		s := ProjectionStatus{Name: name, Position: c.position, UpdatedAt: c.at, Head: head, Lag: max(head-c.position, 0)}
		if s.Lag > 0 {
			pending, err := store.ReadAll(ctx, s.Position, 1)
			if err != nil {
				return nil, fmt.Errorf("projection status: %w", err)
			}
			if len(pending) > 0 {
				// The database's clock, as the positions' times are.
				var now time.Time
				if err := pool.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
					return nil, fmt.Errorf("projection status: %w", err)
				}
				at := pending[0].RecordedAt
				s.LagTime = max(now.Sub(at), 0)
				s.Stuck = max(now.Sub(c.at), 0)
				if at.After(c.at) {
					s.Stuck = s.LagTime
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// Status is the package's Status over the queries' pool.
func (q *Queries) Status(ctx context.Context) ([]ProjectionStatus, error) { return Status(ctx, q.pool) }

// LagCollector exports each projection's lag and position, read from the
// database at scrape time:
//
//	participation_projection_lag_events{projection="participants"}
//	participation_projection_lag_seconds{projection="participants"}
//	participation_projection_position{projection="participants"}
type LagCollector struct {
	pool       *pgxpool.Pool
	logger     *slog.Logger
	lag        *prometheus.Desc
	lagSeconds *prometheus.Desc
	position   *prometheus.Desc
}

// NewLagCollector returns the collector; register it once
// (registry.MustRegister(projections.NewLagCollector(pool, logger))).
func NewLagCollector(pool *pgxpool.Pool, logger *slog.Logger) *LagCollector {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &LagCollector{
		pool:   pool,
		logger: logger,
		lag: prometheus.NewDesc("participation_projection_lag_events",
			"Events in the store that the projection has not consumed yet (store head - projection position).",
			[]string{"projection"}, nil),
		lagSeconds: prometheus.NewDesc("participation_projection_lag_seconds",
			"How long the oldest event the projection has not consumed has been in the store.",
			[]string{"projection"}, nil),
		position: prometheus.NewDesc("participation_projection_position",
			"The last global position the projection consumed.", []string{"projection"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *LagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lag
	ch <- c.lagSeconds
	ch <- c.position
}

// Collect implements prometheus.Collector. A failed read exports nothing
// (an absent series rather than a wrong value) and is logged.
func (c *LagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, err := Status(ctx, c.pool)
	if err != nil {
		c.logger.Warn("projections: lag metric", "error", err)
		return
	}
	for _, s := range status {
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(s.Lag), s.Name)
		ch <- prometheus.MustNewConstMetric(c.lagSeconds, prometheus.GaugeValue, s.LagTime.Seconds(), s.Name)
		ch <- prometheus.MustNewConstMetric(c.position, prometheus.GaugeValue, float64(s.Position), s.Name)
	}
}
