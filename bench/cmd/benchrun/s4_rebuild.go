package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// copyBaseline is section 4's baseline: COPY of rows as wide as a
// participants read-model row into a table indexed like it.
type copyBaseline struct {
	runs []float64 // rows/s
	err  error
}

const rawParticipantsDDL = `CREATE TABLE raw_participants (
    participant_id  uuid        PRIMARY KEY,
    event_id        uuid        NOT NULL,
    seq             bigint      NOT NULL,
    path_seq        bigint      NOT NULL,
    position        bigint      NOT NULL,
    entry_number    text        NOT NULL,
    name_masked     text        NOT NULL,
    phone_masked    text        NOT NULL,
    entry_path      text        NOT NULL,
    participated_at timestamptz NOT NULL,
    store_visited   boolean     NOT NULL DEFAULT false,
    winner          boolean     NOT NULL DEFAULT false);
CREATE UNIQUE INDEX raw_participants_newest_idx ON raw_participants (event_id, seq DESC);
CREATE UNIQUE INDEX raw_participants_path_idx ON raw_participants (event_id, entry_path, path_seq DESC)`

func (e *env) section4Baseline() *copyBaseline {
	if !e.o.sections[4] {
		return nil
	}
	log.Printf("section 4: raw COPY baseline, %d rows × %d", e.o.copyRows, e.o.reps)
	b := &copyBaseline{}
	_, pool, err := e.freshDatabase("bench_copy", 4)
	if err != nil {
		b.err = err
		return b
	}
	defer pool.Close()
	for rep := range e.o.reps {
		rate, err := copyRun(e, pool, e.o.copyRows)
		if err != nil {
			b.err = err
			return b
		}
		log.Printf("section 4: COPY run %d: %.0f rows/s", rep+1, rate)
		b.runs = append(b.runs, rate)
	}
	return b
}

func copyRun(e *env, pool *pgxpool.Pool, rows int) (float64, error) {
	if _, err := pool.Exec(e.ctx, `DROP TABLE IF EXISTS raw_participants`); err != nil {
		return 0, err
	}
	if _, err := pool.Exec(e.ctx, rawParticipantsDDL); err != nil {
		return 0, err
	}
	e.checkpoint()
	eventID := uuid.New()
	paths := []string{"WOORIDONGNE_TV", "INSTAGRAM", "KAKAO", "NAVER_BLOG", "RINGO_BIZ", "STORE_QR", "SNS_OTHER", "OTHER"}
	pathSeq := make([]int64, len(paths))
	at := time.Now().Add(-14 * 24 * time.Hour)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= rows {
			return nil, nil
		}
		i++
		p := i % len(paths)
		pathSeq[p]++
		return []any{uuid.New(), eventID, int64(i), pathSeq[p], int64(i + 1), fmt.Sprintf("K%07d", i), "김**",
			fmt.Sprintf("010-****-%04d", i%10000), paths[p], at.Add(time.Duration(i) * time.Second), i%5 == 0, false}, nil
	})
	start := time.Now()
	n, err := pool.CopyFrom(e.ctx, pgx.Identifier{"raw_participants"}, []string{"participant_id", "event_id", "seq", "path_seq",
		"position", "entry_number", "name_masked", "phone_masked", "entry_path", "participated_at", "store_visited", "winner"}, src)
	if err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// rebuildAvailable reports whether the binary has `projections rebuild`.
func (e *env) rebuildAvailable() bool {
	cmd := exec.Command(e.o.bin, "projections", "rebuild", "--help")
	cmd.Env = e.serviceEnv()
	return cmd.Run() == nil
}

func (e *env) section4(b *copyBaseline) *Section {
	s := &Section{Number: 4, Title: titles[4], Status: "measured"}
	if b == nil || b.err != nil {
		s.Status = fmt.Sprintf("error: raw COPY baseline: %v", b.err)
		return s
	}
	base := newFigure("COPY", "rows/s", b.runs)
	s.note("Baseline: pgx `CopyFrom` of %s rows shaped like a participants read-model row (two uuids, three bigints, entry number, masked name and phone, entry path, time, two flags) into a fresh table with the same three indexes (primary key and two unique), own database `bench_copy`. DESIGN quotes 151k rows/s for this baseline.", groupThousands(strconv.Itoa(e.o.copyRows)))

	// ---- HOOK: the rebuild. -------------------------------------------------
	// `participation projections rebuild --all` (DESIGN "Command line") does not
	// exist yet. When it does, this hook seeds a database of its own with
	// -large participants (visit ratio 0: one event each, plus CampaignOpened)
	// and times the rebuild of all five read models, -reps times.
	if !e.rebuildAvailable() {
		s.Status = "not measured: rebuild not implemented yet (`participation projections rebuild --all` does not exist); the baseline is measured"
		s.add(Row{Label: "rebuild, all five read models", Baseline: base, Target: "≥ 100,000 events/s"})
		return s
	}
	runs, events, err := e.rebuildRuns()
	if err != nil {
		s.Status = "error: rebuild: " + err.Error()
		s.add(Row{Label: "rebuild, all five read models", Baseline: base, Target: "≥ 100,000 events/s"})
		return s
	}
	row := Row{Label: fmt.Sprintf("rebuild of %s events, all five read models", groupThousands(strconv.FormatInt(events, 10))),
		Measured: newFigure("rebuild", "events/s", runs), Baseline: base, Target: "≥ 100,000 events/s"}
	row.Met = boolp(row.Measured.Median >= 100_000)
	s.add(row)
	s.note("Rebuild: `participation projections rebuild --all` against a database of its own holding only the seeded events, wall time of the process (start-up and migrations included).")
	return s
}

func (e *env) rebuildRuns() ([]float64, int64, error) {
	dbURL, pool, err := e.freshDatabase("bench_rebuild", 4)
	if err != nil {
		return nil, 0, err
	}
	defer pool.Close()
	env := append(e.serviceEnv(), "DATABASE_URL="+dbURL)
	log.Printf("section 4: seeding %d participants for the rebuild", e.o.large)
	seed := exec.CommandContext(e.ctx, e.o.bin, "seed", "--campaigns", "1", "--participants", strconv.Itoa(e.o.large), "--visit-ratio", "0", "--owner", "bench")
	seed.Env = env
	if out, err := seed.CombinedOutput(); err != nil {
		return nil, 0, fmt.Errorf("seed: %v: %s", err, tailBytes(out, 500))
	}
	var events int64
	if err := pool.QueryRow(e.ctx, `SELECT count(*) FROM events`).Scan(&events); err != nil {
		return nil, 0, err
	}
	var runs []float64
	for rep := range e.o.reps {
		logPath := filepath.Join(e.o.work, fmt.Sprintf("rebuild-%d.log", rep+1))
		f, err := os.Create(logPath)
		if err != nil {
			return nil, 0, err
		}
		cmd := exec.CommandContext(e.ctx, e.o.bin, "projections", "rebuild", "--all")
		cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
		e.checkpoint()
		start := time.Now()
		err = cmd.Run()
		elapsed := time.Since(start)
		f.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("projections rebuild --all: %v; see %s:\n%s", err, logPath, tail(logPath, 10))
		}
		rate := float64(events) / elapsed.Seconds()
		log.Printf("section 4: rebuild run %d: %d events in %s, %.0f events/s", rep+1, events, elapsed.Round(time.Millisecond), rate)
		runs = append(runs, rate)
	}
	return runs, events, nil
}

func tailBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
