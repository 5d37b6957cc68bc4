package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/seed"
	"github.com/shopevents/participation/privacy"
	"github.com/shopevents/participation/projections"
)

// appendRaw stores an event with arbitrary data, for events the domain
// would never write.
func (e env) appendRaw(t *testing.T, campaign uuid.UUID, stream, typ, data string) {
	t.Helper()
	if _, err := e.store.Append(context.Background(), stream, eventstore.Any, eventstore.EventData{
		PartitionKey: campaign.String(), Type: typ, SchemaVersion: domain.SchemaVersion, Data: json.RawMessage(data),
	}); err != nil {
		t.Fatal(err)
	}
}

// applyLive applies events as the router does: poison is skipped.
func applyLive(t *testing.T, projectors []*projections.Projector, events []eventstore.RecordedEvent) {
	t.Helper()
	ctx := context.Background()
	for _, p := range projectors {
		for _, ev := range events {
			if err := p.Apply(ctx, ev); err != nil && !errors.Is(err, projections.ErrPoison) {
				t.Fatalf("%s: apply %s at %d: %v", p.Name(), ev.Type, ev.Position, err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// seedOddities writes five campaigns with visits and draws (v1, v2 and a
// v2 pending its randomness), and events
// the live projectors take in their stride: poison, an unknown type, a
// duplicate registration, a visit of no one, a registration whose JSON
// needs the slow decoder, a winner who never registered, a winner twice.
func seedOddities(t *testing.T, e env) []*campaignData {
	t.Helper()
	a := e.seedCampaign(t, 120, seedStart, 3)
	b := e.seedCampaign(t, 45, seedStart.Add(5*time.Hour), 4)
	c := e.seedCampaign(t, 0, seedStart, 0)
	e.appendRaw(t, a.id, "participant-poison", domain.TypeParticipantRegistered, `{"participantId": 5}`)
	e.appendRaw(t, a.id, "coupon-1", "CouponIssued", `{"coupon": "X"}`)
	e.append(t, a.id, a.regs[7]) // a duplicate registration
	e.append(t, b.id, domain.StoreVisitRecorded{ParticipantID: uuid.New(), EventID: b.id, VisitedAt: seedStart})
	odd := uuid.New()
	e.appendRaw(t, b.id, domain.ParticipantStream(odd), domain.TypeParticipantRegistered, fmt.Sprintf(
		`{"participantId": "%s", "eventId": "%s", "entryNumber": "Q\"1", "name": "김\"철", "phone": "010-9999-0000", "privacyConsent": true}`,
		odd, b.id))
	b.regs = append(b.regs, domain.ParticipantRegistered{ParticipantID: odd, EventID: b.id, EntryNumber: `Q"1`})
	e.drawWinners(t, a, 3, 17, 42, 100, 119, 0)
	d := domain.WinnersDrawn{DrawID: uuid.New(), EventID: b.id, WinnerCount: 4, Algorithm: domain.DrawAlgorithmWeighted,
		Seed: strings.Repeat("ef", 32), CandidateCount: len(b.regs), CandidatesDigest: strings.Repeat("01", 32),
		DrawnAt: seedStart.Add(100 * time.Hour), DrawnBy: "owner-1", Winners: []domain.Winner{
			{ParticipantID: b.regs[2].ParticipantID, EntryNumber: b.regs[2].EntryNumber, Rank: 1},
			{ParticipantID: uuid.New(), EntryNumber: "NOBODY", Rank: 2},
			{ParticipantID: b.regs[2].ParticipantID, EntryNumber: b.regs[2].EntryNumber, Rank: 3},
			{ParticipantID: odd, EntryNumber: `Q"1`, Rank: 4},
		}}
	e.append(t, b.id, d)
	b.draw = &d
	e.visit(t, a, a.regs[1]) // after the draw
	// v2: a draw with alternates (one of them erased), and one pending its randomness
	v2 := e.seedCampaign(t, 12, seedStart, 2)
	e.drawV2(t, v2, false, []int{3, 8}, []int{1, 10, 5})
	e.append(t, v2.id, domain.ParticipantErased{ParticipantID: v2.regs[10].ParticipantID, EventID: v2.id, Reason: domain.ErasedOnRequest, ErasedAt: seedStart, ErasedBy: "customer"})
	pending := e.seedCampaign(t, 4, seedStart, 0)
	e.drawV2(t, pending, true, []int{0}, nil)
	return []*campaignData{a, b, c, v2, pending}
}

type pageAnswer struct {
	Rows  []projections.ParticipantRow
	Total int64
}

// answers asks every Queries method about the campaigns.
func answers(ctx context.Context, q *projections.Queries, campaigns []*campaignData) (map[string]any, error) {
	out := map[string]any{}
	pages := func(name string, id uuid.UUID, f projections.ParticipantFilter) error {
		var a pageAnswer
		for f.Page = 1; ; f.Page++ {
			p, err := q.Participants(ctx, id, f)
			if err != nil {
				return fmt.Errorf("%s page %d: %w", name, f.Page, err)
			}
			a.Rows, a.Total = append(a.Rows, p.Items...), p.TotalCount
			if len(p.Items) < f.Size {
				break
			}
		}
		out[name] = a
		return nil
	}
	for _, c := range campaigns {
		id := c.id.String()
		filters := map[string]projections.ParticipantFilter{
			"all": {Size: 7}, "winners": {Winner: ptr(true), Size: 2}, "non-winners": {Winner: ptr(false), Size: 9},
		}
		for _, p := range append(domain.EntryPaths, "NOPE") {
			filters["path "+string(p)] = projections.ParticipantFilter{EntryPath: string(p), Size: 5}
			filters["winners path "+string(p)] = projections.ParticipantFilter{EntryPath: string(p), Winner: ptr(true), Size: 5}
			filters["non-winners path "+string(p)] = projections.ParticipantFilter{EntryPath: string(p), Winner: ptr(false), Size: 4}
		}
		for name, f := range filters {
			if err := pages(id+" "+name, c.id, f); err != nil {
				return nil, err
			}
		}
		var each []projections.ParticipantRow
		if err := q.EachParticipant(ctx, c.id, func(r projections.ParticipantRow) error {
			each = append(each, r)
			return nil
		}); err != nil {
			return nil, err
		}
		out[id+" each"] = each
		var err error
		if out[id+" winners table"], err = q.Winners(ctx, c.id); err != nil {
			return nil, err
		}
		if out[id+" draw logs"], err = q.DrawLogs(ctx, c.id); err != nil {
			return nil, err
		}
		if out[id+" analytics"], err = q.Analytics(ctx, c.id); err != nil {
			return nil, err
		}
		if c.draw != nil {
			d, found, err := q.DrawLog(ctx, c.draw.DrawID)
			if err != nil || !found {
				return nil, fmt.Errorf("draw log %s: found %t, %w", c.draw.DrawID, found, err)
			}
			out[id+" draw log"] = d
		}
	}
	return out, nil
}

func mustAnswers(t *testing.T, q *projections.Queries, campaigns []*campaignData) map[string]any {
	t.Helper()
	a, err := answers(context.Background(), q, campaigns)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var timeEqual = cmp.Comparer(time.Time.Equal)

// schemaOf lists the read models' columns, indexes and constraints, which
// a rebuild must keep as the migrations made them.
func schemaOf(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
		UNION ALL
		SELECT 'constraint ' || conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = 'public'::regnamespace
		UNION ALL
		SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
			coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = 'public'
		UNION ALL
		SELECT 'table ' || relname || ' ' || coalesce(reloptions::text, '') || ' ' || coalesce(relacl::text, '') ||
			' ' || pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func shadowSchemas(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'projections_rebuild%'`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func rebuild(t *testing.T, pool *pgxpool.Pool, opts projections.RebuildOptions) projections.RebuildReport {
	t.Helper()
	if opts.Publicize == nil {
		opts.Publicize = testPublicize(t, pool)
	}
	report, err := projections.Rebuild(context.Background(), pool, opts)
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	return report
}

func TestRebuildGivesWhatTheLiveProjectorsBuilt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	campaigns := seedOddities(t, e)
	events := e.allEvents(t)
	applyLive(t, projections.NewProjectors(e.pool, nil), events)
	// Storage parameters and grants are the live tables', too.
	if _, err := e.pool.Exec(context.Background(), `ALTER TABLE participants SET (fillfactor = 90);
		GRANT SELECT ON winners TO PUBLIC`); err != nil {
		t.Fatal(err)
	}
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	wantTables, wantAnswers, wantSchema := snapshot(t, e.pool), mustAnswers(t, q, campaigns), schemaOf(t, e.pool)

	// Small pages put visits and draws pages after the registrations they
	// flag; one large page keeps everything in memory until it is written.
	for _, pageSize := range []int{16, 0} {
		t.Run(fmt.Sprintf("page_size_%d", pageSize), func(t *testing.T) {
			report := rebuild(t, e.pool, projections.RebuildOptions{PageSize: pageSize, Verify: true})
			if !report.Swapped || report.Differs() {
				t.Errorf("swapped %t, differs %t: %+v", report.Swapped, report.Differs(), report.Diffs)
			}
			if report.Events != int64(len(events)) || report.Position != events[len(events)-1].Position || report.Poison != 2 {
				t.Errorf("report: %d events up to %d, %d poison; want %d up to %d, 2 poison",
					report.Events, report.Position, report.Poison, len(events), events[len(events)-1].Position)
			}
			if diff := cmp.Diff(wantTables, snapshot(t, e.pool)); diff != "" {
				t.Errorf("tables after the rebuild (-live projectors +rebuild):\n%s", diff)
			}
			if diff := cmp.Diff(wantAnswers, mustAnswers(t, q, campaigns), timeEqual); diff != "" {
				t.Errorf("answers after the rebuild (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(wantSchema, schemaOf(t, e.pool)); diff != "" {
				t.Errorf("schema after the rebuild (-migrated +rebuilt):\n%s", diff)
			}
			if s := shadowSchemas(t, e.pool); len(s) > 0 {
				t.Errorf("shadow schemas left behind: %v", s)
			}
		})
	}

	t.Run("the_live_projectors_go_on_after_it", func(t *testing.T) {
		a := campaigns[0]
		head := events[len(events)-1].Position
		e.register(t, a, 3, seedStart.Add(2000*time.Hour))
		fresh := e.allEvents(t)
		applyLive(t, projections.NewProjectors(e.pool, nil), fresh) // all of them: the old ones are duplicates
		page, err := q.Participants(context.Background(), a.id, projections.ParticipantFilter{Page: 1, Size: 3})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != int64(len(a.regs)) || page.Items[0].ParticipantID != a.regs[len(a.regs)-1].ParticipantID {
			t.Errorf("after 3 more: total %d, newest %s; want %d, %s", page.TotalCount, page.Items[0].ParticipantID,
				len(a.regs), a.regs[len(a.regs)-1].ParticipantID)
		}
		status, err := projections.Status(context.Background(), e.pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range status {
			if s.Lag != 0 || s.Position <= head {
				t.Errorf("%s: position %d, lag %d after the new events", s.Name, s.Position, s.Lag)
			}
		}
	})
}

func TestRebuildOfSomeProjectionsLeavesTheOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	campaigns := seedOddities(t, e)
	applyLive(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
	want := snapshot(t, e.pool)
	a := campaigns[0]
	for _, sql := range []string{
		`UPDATE participants SET name_masked = 'X' WHERE participant_id = '` + a.regs[0].ParticipantID.String() + `'`,
		`UPDATE analytics SET total_participants = 1`,
		`DELETE FROM winners WHERE rank = 2`,
	} {
		if _, err := e.pool.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	corrupted := snapshot(t, e.pool)
	rebuild(t, e.pool, projections.RebuildOptions{Projections: []string{projections.AnalyticsProjection, projections.WinnersProjection}})
	got := snapshot(t, e.pool)
	for table, rows := range got {
		wantRows := want[table]
		if table == "participants" {
			wantRows = corrupted[table] // not rebuilt
		}
		if diff := cmp.Diff(wantRows, rows); diff != "" {
			t.Errorf("%s (-want +got):\n%s", table, diff)
		}
	}
}

func TestVerifyReportsDifferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	campaigns := seedOddities(t, e)
	applyLive(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
	a, b := campaigns[0], campaigns[1]

	clean := rebuild(t, e.pool, projections.RebuildOptions{Verify: true, DryRun: true})
	if clean.Differs() || clean.Swapped || len(clean.Diffs) != 9 || len(clean.Lagging) != 0 {
		t.Fatalf("clean dry run: differs %t, swapped %t, %d tables compared, lagging %v",
			clean.Differs(), clean.Swapped, len(clean.Diffs), clean.Lagging)
	}

	corrupted := a.regs[5].ParticipantID.String()
	for _, sql := range []string{
		`UPDATE participants SET store_visited = NOT store_visited WHERE participant_id = '` + corrupted + `'`,
		`DELETE FROM analytics_hours WHERE event_id = '` + b.id.String() + `'
			AND hour = (SELECT min(hour) FROM analytics_hours WHERE event_id = '` + b.id.String() + `')`,
		`INSERT INTO draw_log SELECT '00000000-0000-0000-0000-000000000001', event_id, method, winner_count, algorithm,
			visit_bonus, visit_bonus_weight, seed, candidate_count, candidates_digest, cutoff_position, drawn_at, drawn_by,
			winners, position FROM draw_log LIMIT 1`,
	} {
		if _, err := e.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, e.pool)
	dry := rebuild(t, e.pool, projections.RebuildOptions{Verify: true, DryRun: true})
	got := map[string]projections.TableDiff{}
	for _, d := range dry.Diffs {
		got[d.Table] = d
	}
	for table, want := range map[string]projections.TableDiff{
		"participants":    {Different: 1, Keys: []string{corrupted}},
		"analytics_hours": {OnlyRebuilt: 1},
		"draw_log":        {OnlyLive: 1, Keys: []string{"00000000-0000-0000-0000-000000000001"}},
	} {
		d := got[table]
		if d.Different != want.Different || d.OnlyLive != want.OnlyLive || d.OnlyRebuilt != want.OnlyRebuilt ||
			(want.Keys != nil && !cmp.Equal(d.Keys, want.Keys)) {
			t.Errorf("%s: %+v, want %+v", table, d, want)
		}
		delete(got, table)
	}
	for table, d := range got {
		if d.Differs() {
			t.Errorf("%s differs: %+v", table, d)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, e.pool)); diff != "" {
		t.Errorf("a dry run changed the live tables:\n%s", diff)
	}

	// A real rebuild reports the same and repairs the tables.
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true}); !r.Differs() || !r.Swapped {
		t.Errorf("rebuild over corrupted tables: differs %t, swapped %t", r.Differs(), r.Swapped)
	}
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true, DryRun: true}); r.Differs() {
		t.Errorf("still differs after the rebuild: %+v", r.Diffs)
	}
}

// liveProjector applies the store's events as they come, as the router
// does: an error is retried (a nack and a redelivery), poison skipped.
type liveProjector struct {
	tail    *eventstore.Tail
	applied atomic.Int64
	retries atomic.Int64
	done    chan struct{}
}

func TestCancelledRebuildLeavesTheLiveTables(t *testing.T) {
	t.Parallel()
	for _, phase := range []string{projections.PhaseReplay, projections.PhaseIndex, projections.PhaseCatchUp, projections.PhaseSwap} {
		t.Run(phase, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			campaigns := seedOddities(t, e)
			applyLive(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
			before, schema := snapshot(t, e.pool), schemaOf(t, e.pool)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := projections.Rebuild(ctx, e.pool, projections.RebuildOptions{PageSize: 20, Publicize: testPublicize(t, e.pool),
				Progress: func(p projections.RebuildProgress) {
					if p.Phase == projections.PhaseIndex && phase == projections.PhaseCatchUp {
						// something to catch up with
						if err := appendEvent(context.Background(), e, registration(campaigns[2], 0), campaigns[2].id); err != nil {
							t.Error(err)
						}
					}
					if p.Phase == phase && (phase != projections.PhaseReplay || p.Events > 0) {
						cancel()
					}
				}})
			if err == nil {
				t.Fatal("a cancelled rebuild succeeded")
			}
			if diff := cmp.Diff(before, snapshot(t, e.pool)); diff != "" {
				t.Errorf("live tables changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(schema, schemaOf(t, e.pool)); diff != "" {
				t.Errorf("schema changed (-before +after):\n%s", diff)
			}
			if s := shadowSchemas(t, e.pool); len(s) > 0 {
				t.Errorf("shadow schemas left behind: %v", s)
			}
			// The lock is released: the next rebuild runs.
			rebuild(t, e.pool, projections.RebuildOptions{})
		})
	}
}

func TestRebuildDropsADeadRebuildsSchemaAndRunsAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	seedOddities(t, e)
	if _, err := e.pool.Exec(ctx, `CREATE SCHEMA projections_rebuild_dead; CREATE TABLE projections_rebuild_dead.participants (x int)`); err != nil {
		t.Fatal(err)
	}
	// Another rebuild holds the database while its progress callback waits.
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		var once sync.Once
		_, err := projections.Rebuild(ctx, e.pool, projections.RebuildOptions{Publicize: testPublicize(t, e.pool), Progress: func(projections.RebuildProgress) {
			once.Do(func() { close(inside); <-release })
		}})
		first <- err
	}()
	<-inside
	if _, err := projections.Rebuild(ctx, e.pool, projections.RebuildOptions{Publicize: testPublicize(t, e.pool)}); !errors.Is(err, projections.ErrRebuildRunning) {
		t.Errorf("a second rebuild at once: %v, want ErrRebuildRunning", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if s := shadowSchemas(t, e.pool); len(s) > 0 {
		t.Errorf("schemas left: %v", s)
	}
}

func TestStatusSaysWhenAProjectionStalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.seedCampaign(t, 5, seedStart, 0)
	applyLive(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
	status, err := projections.Status(ctx, e.pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if s.Lag != 0 || s.LagTime != 0 || s.Stalled(0) {
			t.Errorf("caught up %s: lag %d (%s), stalled %t", s.Name, s.Lag, s.LagTime, s.Stalled(0))
		}
	}
	e.register(t, c, 2, seedStart) // no projector runs
	time.Sleep(300 * time.Millisecond)
	if status, err = projections.Status(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if s.Lag != 2 || s.LagTime < 300*time.Millisecond || s.Stuck < 300*time.Millisecond {
			t.Errorf("%s: lag %d (%s), stuck %s; want 2 events, 300ms or more", s.Name, s.Lag, s.LagTime, s.Stuck)
		}
		if !s.Stalled(200*time.Millisecond) || s.Stalled(time.Hour) {
			t.Errorf("%s stalled after 200ms: %t, after 1h: %t; want true, false", s.Name, s.Stalled(200*time.Millisecond), s.Stalled(time.Hour))
		}
	}
}

// BenchmarkRebuild rebuilds every read model from about 200,000 events as
// `participation seed` writes them (one campaign, a fifth of the
// participants visit); REBUILD_BENCH_PARTICIPANTS changes the size.
func BenchmarkRebuild(b *testing.B) {
	benchPIIKey := []byte("bench-pii-key-0123")
	e := newEnv(b)
	ctx := context.Background()
	participants := 166_667
	if n, err := strconv.Atoi(os.Getenv("REBUILD_BENCH_PARTICIPANTS")); err == nil {
		participants = n
	}
	if _, err := seed.Run(ctx, e.store, seed.Config{Campaigns: 1, Participants: participants, VisitRatio: 0.2,
		OwnerID: "owner-bench", PIIKey: benchPIIKey, Rand: rand.New(rand.NewPCG(1, 2))}, nil); err != nil {
		b.Fatal(err)
	}
	// As the service rebuilds: the registrations opened and masked.
	keys, err := privacy.NewKeys(benchPIIKey)
	if err != nil {
		b.Fatal(err)
	}
	benchPublicize := privacy.NewPublicizer(keys, e.store, slog.New(slog.DiscardHandler)).Public
	var events int64
	for b.Loop() {
		r, err := projections.Rebuild(ctx, e.pool, projections.RebuildOptions{Publicize: benchPublicize})
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
		b.Logf("%d events in %s: replay %s, indexes %s, catch-up %s, swap %s", r.Events, r.Total, r.Replay, r.Index,
			r.CatchUp, r.Swap)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

func TestRebuildOfAnEmptyStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := snapshot(t, e.pool)
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true}); r.Events != 0 || !r.Swapped || r.Differs() {
		t.Errorf("report: %+v", r)
	}
	if diff := cmp.Diff(before, snapshot(t, e.pool)); diff != "" {
		t.Error(diff)
	}
}
