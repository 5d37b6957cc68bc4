package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
)

// participantSeqScans is the sequential scans of participants so far; pool
// has one connection, whose pending statistics are flushed first.
func participantSeqScans(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := pool.QueryRow(ctx, `SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'participants'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The participants projector's lookup of a batch's people stays an index
// probe when the read model grows after the connection's first batches
// (a fresh database, analyzed while it held a few rows): a generic plan
// kept from then scans the whole table for every batch.
func TestProjectorLookupStaysAnIndexProbeAsTheReadModelGrows(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t, 1) // one connection: one plan cache
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := projections.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	e := env{pool: pool, store: eventstore.New(pool)}
	p, err := projections.NewProjector(projections.ParticipantsProjection, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	c := e.seedCampaign(t, 5, start, 0)
	var after int64
	applyNew := func() {
		t.Helper()
		recs, err := e.store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ApplyBatch(ctx, recs); err != nil {
			t.Fatal(err)
		}
		after = recs[len(recs)-1].Position
	}
	applyNew()
	if _, err := pool.Exec(ctx, `ANALYZE participants`); err != nil { // statistics of a few rows
		t.Fatal(err)
	}
	for range 10 { // past the five custom plans after which PostgreSQL may keep a generic one
		e.register(t, c, 1, start)
		applyNew()
	}
	if _, err := pool.Exec(ctx, `INSERT INTO participants (participant_id, event_id, seq, path_seq, position, entry_number,
		name_masked, phone_masked, entry_path, participated_at)
		SELECT gen_random_uuid(), gen_random_uuid(), 1, 1, 0, 'X' || g, '김*', '010-****-0000', 'KAKAO', now()
		FROM generate_series(1, 50000) g`); err != nil {
		t.Fatal(err)
	}

	before := participantSeqScans(t, pool)
	e.register(t, c, 3, start)
	applyNew()
	if n := participantSeqScans(t, pool) - before; n != 0 {
		t.Errorf("a batch of 3 registrations scanned participants (50,016 rows) whole %d time(s), want index probes", n)
	}
	var listed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM participants WHERE event_id = $1`, c.id).Scan(&listed); err != nil {
		t.Fatal(err)
	}
	if listed != len(c.regs) {
		t.Errorf("%d participants of the campaign listed, want %d", listed, len(c.regs))
	}
}

// The projector's statements keep one plan each where one serves: after
// the five custom plans PostgreSQL makes first, a batch runs the cached
// generic plan (forcing custom plans planned every statement of every
// batch again). The participants lookup PostgreSQL itself still plans per
// batch, by its own cost choice: its array's size varies.
func TestProjectorStatementsKeepOnePlan(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t, 1) // one connection: its prepared statements are the projector's
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := projections.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	e := env{pool: pool, store: eventstore.New(pool)}
	p, err := projections.NewProjector(projections.ParticipantsProjection, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	c := e.seedCampaign(t, 2, start, 0)
	var after int64
	for range 12 {
		e.register(t, c, 2, start)
		recs, err := e.store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ApplyBatch(ctx, recs); err != nil {
			t.Fatal(err)
		}
		after = recs[len(recs)-1].Position
	}
	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%participant_counts%' OR statement LIKE '%projection_positions%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			sql             string
			generic, custom int64
		)
		if err := rows.Scan(&sql, &generic, &custom); err != nil {
			t.Fatal(err)
		}
		n++
		if generic == 0 || custom > 5 {
			t.Errorf("%d generic and %d custom plans, want the generic plan kept after five custom ones: %.80s", generic, custom, sql)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("%d of the projector's statements prepared, want its counts (read, written) and positions (locked, written)", n)
	}
}
