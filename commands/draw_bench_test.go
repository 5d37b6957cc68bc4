package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

// BenchmarkDrawWinners is issue 15's draw over a big campaign, at the
// command (the HTTP API adds routing, masking and JSON for 110 rows), with
// each phase timed on its own: the candidates read under the fence, the
// leaves and their Merkle root, the order, then the whole command. A draw
// is final, so every iteration draws a fresh copy of one seeded template
// database. DRAW_BENCH_N sets the candidates (default 1,000,000; a fifth of
// them visitors); DRAW_BENCH_TEMPLATE names a template database kept across
// runs (seeded when absent), so that old and new code can be run
// alternately on the same store without seeding it again.
//
//	go test -run '^$' -bench DrawWinners -benchtime 3x ./commands/
func BenchmarkDrawWinners(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("DRAW_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 2 {
			b.Fatalf("DRAW_BENCH_N=%q", s)
		}
	}
	template, eventID := drawBenchTemplate(b, n)
	const winners, alternates = 100, 10
	for _, bonus := range []bool{false, true} {
		b.Run(fmt.Sprintf("candidates=%d/bonus=%t", n, bonus), func(b *testing.B) {
			var read, leaves, order, draw time.Duration
			var readCPU, readPG, leavesCPU, drawCPU, drawPG time.Duration
			backends, busiest := 0, time.Duration(0)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ctx := context.Background()
				pool := drawBenchPool(b, testenv.DatabaseFrom(b, template))
				store := eventstore.New(pool)
				h, err := commands.New(store, commands.Config{PIIKey: []byte("test-pii-key-0123456789abcdef")})
				if err != nil {
					b.Fatal(err)
				}
				weight := 1
				if bonus {
					weight = domain.DefaultVisitBonusWeight
				}
				// the phases on their own (the read also warms the cache,
				// as the bench's raw read does before its HTTP draw)
				start, cpu0, pg0 := time.Now(), processCPU(b), backendsCPU(b, pool)
				var set *domain.CandidateSet
				if err := store.Exclusive(ctx, domain.CampaignStream(eventID), func(ctx context.Context, tx *eventstore.Tx) error {
					set, _, err = tx.DrawCandidates(ctx, eventID.String())
					return err
				}); err != nil {
					b.Fatal(err)
				}
				t1, cpu1, pg1 := time.Now(), processCPU(b), backendsCPU(b, pool)
				l, err := domain.LeavesOf(set, uuid.New(), weight)
				if err != nil {
					b.Fatal(err)
				}
				t2, cpu2 := time.Now(), processCPU(b)
				readCPU, readPG, leavesCPU = readCPU+cpu1-cpu0, readPG+pg1.since(pg0), leavesCPU+cpu2-cpu1
				if _, _, err := domain.DrawOrder(l.Weights, [32]byte{byte(i)}, winners, alternates); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				read, leaves, order = read+t1.Sub(start), leaves+t2.Sub(t1), order+t3.Sub(t2)
				if set.Len() != n {
					b.Fatalf("%d candidates, want %d", set.Len(), n)
				}

				cpu0, pg0 = processCPU(b), backendsCPU(b, pool)
				b.StartTimer()
				start = time.Now()
				out, err := h.Commands.DrawWinners.Handle(ctx, commands.DrawWinners{EventID: eventID, OwnerID: drawBenchOwner,
					WinnerCount: winners, AlternateCount: alternates, VisitBonus: bonus})
				draw += time.Since(start)
				b.StopTimer()
				after := backendsCPU(b, pool)
				drawCPU, drawPG = drawCPU+processCPU(b)-cpu0, drawPG+after.since(pg0)
				backends = max(backends, len(after))
				busiest += after.busiest(pg0)
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Winners) != winners || len(out.Alternates) != alternates {
					b.Fatalf("%d winners and %d alternates", len(out.Winners), len(out.Alternates))
				}
				pool.Close()
			}
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(per(read), "read-ms")
			b.ReportMetric(per(leaves), "leaves-ms")
			b.ReportMetric(per(order), "order-ms")
			b.ReportMetric(per(draw), "draw-ms")
			// CPU, which a machine shared with other work does not inflate
			// as it does wall time: this process's and its PostgreSQL
			// backends' (the server on this machine)
			b.ReportMetric(per(readCPU), "read-cpu-ms")
			b.ReportMetric(per(readPG), "read-pg-cpu-ms")
			b.ReportMetric(per(leavesCPU), "leaves-cpu-ms")
			b.ReportMetric(per(drawCPU), "draw-cpu-ms")
			b.ReportMetric(per(drawPG), "draw-pg-cpu-ms")
			b.ReportMetric(float64(backends), "backends")
			// the busiest backend's: the server's part of the critical path
			b.ReportMetric(per(busiest), "draw-pg-busiest-cpu-ms")
		})
	}
}

const drawBenchOwner = "owner-bench"

func drawBenchPool(b *testing.B, url string) *pgxpool.Pool {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// drawBenchTemplate returns a template database holding one campaign of n
// candidates, and the campaign's id.
func drawBenchTemplate(b *testing.B, n int) (string, uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	name := os.Getenv("DRAW_BENCH_TEMPLATE")
	if name != "" {
		if conn, err := pgx.Connect(ctx, testenv.DatabaseURL(name)); err == nil {
			var id uuid.UUID
			err := conn.QueryRow(ctx, `SELECT partition_key::uuid FROM events WHERE type = $1`, domain.TypeCampaignOpened).Scan(&id)
			_ = conn.Close(ctx)
			if err != nil {
				b.Fatalf("template %s: %v", name, err)
			}
			return name, id
		}
		admin, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
		if err != nil {
			b.Fatal(err)
		}
		_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		_ = admin.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
	} else {
		url := testenv.Database(b)
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			b.Fatal(err)
		}
		name = cfg.Database
	}
	pool := drawBenchPool(b, testenv.DatabaseURL(name))
	defer pool.Close()
	id, err := seedDrawBench(ctx, pool, n)
	if err != nil {
		b.Fatalf("seed %s: %v", name, err)
	}
	return name, id
}

// seedDrawBench opens a campaign, registers one participant and records
// its visit through the commands, then copies those events in SQL into n
// registrations with distinct, scattered entry numbers, a fifth of them
// visited: the store's own trigger fills draw_candidates as for real ones.
// The copies have no data keys, so a drawn copy's personal data is empty.
func seedDrawBench(ctx context.Context, pool *pgxpool.Pool, n int) (uuid.UUID, error) {
	if err := eventstore.Migrate(ctx, pool); err != nil {
		return uuid.Nil, err
	}
	h, err := commands.New(eventstore.New(pool), commands.Config{PIIKey: []byte("test-pii-key-0123456789abcdef")})
	if err != nil {
		return uuid.Nil, err
	}
	now := time.Now()
	opened, err := h.Commands.OpenCampaign.Handle(ctx, commands.OpenCampaign{OwnerID: drawBenchOwner, Title: "추첨 벤치",
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(365 * 24 * time.Hour), AnnounceAt: now.Add(366 * 24 * time.Hour)})
	if err != nil {
		return uuid.Nil, err
	}
	reg, err := h.Commands.RegisterParticipant.Handle(ctx, commands.RegisterParticipant{EventID: opened.EventID, Name: "김철수",
		Phone: "010-1234-5678", EntryPath: "instagram", PrivacyConsent: true})
	if err != nil {
		return uuid.Nil, err
	}
	if err := h.Commands.RecordStoreVisit.Handle(ctx, commands.RecordStoreVisit{EventID: opened.EventID, EntryNumber: reg.EntryNumber, OwnerID: drawBenchOwner}); err != nil {
		return uuid.Nil, err
	}
	// entry i is (i·stride + 1) mod 31⁸ in the alphabet's digits: distinct
	// (the stride is prime to 31) and, the stride about 31⁸/n, spread over
	// the whole range as random ones are
	const copies = `INSERT INTO events (position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
	SELECT nextval('events_position_seq'), pg_current_xact_id(), gen_random_uuid(), 'participant-' || p.id, e.stream_version,
		e.partition_key, e.type, e.schema_version, e.data || jsonb_build_object('participantId', p.id::text, 'entryNumber', p.entry), e.metadata
	FROM (SELECT * FROM events WHERE type = $1 AND partition_key = $2 ORDER BY position LIMIT 1) e,
	LATERAL (SELECT gen_random_uuid() AS id,
		(SELECT string_agg(substr('` + domain.EntryNumberAlphabet + `', (div(x, 31::numeric ^ d) % 31)::int + 1, 1), '' ORDER BY d DESC)
		 FROM generate_series(0, 7) d) AS entry
		FROM generate_series($3::bigint, $4::bigint - 1) i, LATERAL (SELECT (i * $5::bigint + 1) % (31::numeric ^ 8) AS x) s) q,
	LATERAL (SELECT q.id, substr(q.entry, 1, 4) || '-' || substr(q.entry, 5, 4) AS entry) p`
	const chunk, range8 = 200_000, 852_891_037_441 // 31⁸
	stride := int64(range8 / n)
	if stride%31 == 0 {
		stride++
	}
	for lo := 1; lo < n; lo += chunk {
		if _, err := pool.Exec(ctx, copies, domain.TypeParticipantRegistered, opened.EventID.String(), lo, min(lo+chunk, n), stride); err != nil {
			return uuid.Nil, fmt.Errorf("registrations: %w", err)
		}
	}
	const visits = `INSERT INTO events (position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
	SELECT nextval('events_position_seq'), pg_current_xact_id(), gen_random_uuid(), 'participant-' || c.participant_id, v.stream_version,
		v.partition_key, v.type, v.schema_version, v.data || jsonb_build_object('participantId', c.participant_id::text), v.metadata
	FROM (SELECT * FROM events WHERE type = $1 AND partition_key = $2 ORDER BY position LIMIT 1) v, draw_candidates c
	WHERE c.event_id = $2 AND NOT c.visited AND get_byte(uuid_send(c.participant_id), 0) % 5 = 0`
	if _, err := pool.Exec(ctx, visits, domain.TypeStoreVisitRecorded, opened.EventID.String()); err != nil {
		return uuid.Nil, fmt.Errorf("visits: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return uuid.Nil, err
	}
	return opened.EventID, nil
}

// processCPU is this process's CPU time so far, user and system.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU is the CPU time of a database's backends, by process id.
type backendCPU map[int]time.Duration

// since is the CPU the backends spent since before (a backend new since
// then counts in full).
func (c backendCPU) since(before backendCPU) time.Duration {
	var d time.Duration
	for pid, t := range c {
		d += t - before[pid]
	}
	return d
}

// busiest is the most CPU one backend spent since before.
func (c backendCPU) busiest(before backendCPU) time.Duration {
	var most time.Duration
	for pid, t := range c {
		most = max(most, t-before[pid])
	}
	return most
}

// backendsCPU reads the CPU time of pool's database's backends from
// /proc/PID/stat (utime and stime, fields 14 and 15, in clock ticks of
// 1/100 s): the server runs on this machine.
func backendsCPU(b *testing.B, pool *pgxpool.Pool) backendCPU {
	b.Helper()
	rows, err := pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	out := backendCPU{}
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // ended since
		}
		// the command name (field 2) may hold spaces: count from its ")"
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		out[int(pid)] = time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return out
}
