package main

import (
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/projections"
)

func (e *env) section9() *Section {
	s := &Section{Number: 9, Title: titles[9], Status: "measured"}
	fail := func(what string, err error) *Section { s.Status = "error: " + what + ": " + err.Error(); return s }
	d := e.pipelineSource()
	if d.err != nil {
		return fail("seed", d.err)
	}
	n := len(d.events)
	rows, err := participantRows(d.events)
	if err != nil {
		return fail("rows", err)
	}
	var oneRuns, steadyRuns, batchRuns, baseRuns, allRuns []float64
	for rep := range e.o.reps {
		r, err := e.projectorRun(d, fmt.Sprintf("bench-proj-%d-%d", os.Getpid(), rep), []string{projections.ParticipantsProjection})
		if err != nil {
			return fail("projector", err)
		}
		log.Printf("section 9: participants projector run %d: %.0f events/s from start (%.0f from the first batch, %.0f events per batch)",
			rep+1, r.fromStart, r.steady, r.perBatch)
		oneRuns, steadyRuns, batchRuns = append(oneRuns, r.fromStart), append(steadyRuns, r.steady), append(batchRuns, r.perBatch)

		rate, err := e.unnestRun(rows)
		if err != nil {
			return fail("unnest baseline", err)
		}
		log.Printf("section 9: unnest INSERT run %d: %.0f rows/s", rep+1, rate)
		baseRuns = append(baseRuns, rate)
	}
	r, err := e.projectorRun(d, fmt.Sprintf("bench-proj-%d-all", os.Getpid()), projections.Names())
	if err != nil {
		return fail("all projectors", err)
	}
	log.Printf("section 9: all five projectors: %.0f events/s each from start; by model %v", r.fromStart, r.perModel)
	allRuns = append(allRuns, r.fromStart)
	s.detail("all_models_events_per_s", r.perModel)

	base := newFigure("unnest INSERT", "rows/s", baseRuns)
	row := Row{Label: fmt.Sprintf("participants projector, %s events on one partition, start → last batch committed", groupThousands(strconv.Itoa(n))),
		Measured: newFigure("router", "events/s", oneRuns), Baseline: base, Target: "≥ 20,000 events/s (issue: ≥ 10,000)"}
	row.Met = boolp(row.Measured.Median >= 20_000)
	s.add(row)
	s.add(Row{Label: "the same, from the first batch committed (group join left out)", Measured: newFigure("router", "events/s", steadyRuns), Baseline: base})
	s.add(Row{Label: "events per transaction (participants)", Measured: newFigure("", "events", batchRuns)})
	s.add(Row{Label: "all five projectors in one process, each consuming every event (one run)", Measured: newFigure("router", "events/s per model", allRuns), Baseline: base})
	s.note("Measured: the production projector (`projections.NewRouter`, its own subscriber, default batch of 1,000 and 2 workers) in the harness's process, consuming a fresh one-partition topic of this run's kfake that holds section 8's campaign (%s events: the relay's publicized messages, produced by the relay's publisher) into a fresh, migrated database on the durable server; timed from the router's start (consumer-group join included) until the model has applied every event, each batch in one transaction committed durably before its offsets.", groupThousands(strconv.Itoa(n)))
	var models []string
	for _, name := range projections.Names() {
		models = append(models, fmt.Sprintf("%s %s", name, num(r.perModel[name])))
	}
	s.note("All five models in one process (one consumer group each, sharing the machine): events/s of each from the start to its last event: %s.", strings.Join(models, ", "))
	s.note("Baseline: the same participants read-model rows (decoded from the same payloads) inserted through pgx with a multi-row `INSERT … SELECT FROM unnest(…)`, 1,000 rows per transaction, one after the other, into a fresh table with the read model's three indexes (section 4's `raw_participants`), same server.")
	return s
}

type projectorResult struct {
	fromStart, steady, perBatch float64
	perModel                    map[string]float64 // events/s of each model, from the start to its last event
}

// projectorRun fills topic and runs the named projectors over a fresh read-model database.
func (e *env) projectorRun(d *pipelineData, topic string, names []string) (projectorResult, error) {
	var res projectorResult
	_, pool, err := e.freshDatabase("bench_projector", 12)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	if err := eventstore.Migrate(e.ctx, pool); err != nil {
		return res, err
	}
	if err := projections.Migrate(e.ctx, pool); err != nil {
		return res, err
	}
	if err := e.fillTopic(d, topic); err != nil {
		return res, fmt.Errorf("fill topic: %w", err)
	}
	e.checkpoint()
	var mu sync.Mutex
	applied, batches, finished := map[string]int{}, 0, map[string]time.Time{}
	var first time.Time
	done := make(chan struct{})
	router, err := projections.NewRouter(projections.RouterConfig{Brokers: strings.Split(e.brokers, ","), Topic: topic, Pool: pool,
		Projections: names, Logger: slog.New(slog.DiscardHandler), OnApplied: func(name string, k int) {
			mu.Lock()
			defer mu.Unlock()
			if first.IsZero() {
				first = time.Now()
			}
			applied[name] += k
			batches++
			if applied[name] >= len(d.events) && finished[name].IsZero() {
				finished[name] = time.Now()
			}
			for _, nm := range names {
				if applied[nm] < len(d.events) {
					return
				}
			}
			select {
			case <-done:
			default:
				close(done)
			}
		}})
	if err != nil {
		return res, err
	}
	start := time.Now()
	ran := make(chan error, 1)
	go func() { ran <- router.Run(e.ctx) }()
	select {
	case <-done:
	case err := <-ran:
		return res, fmt.Errorf("router stopped: %v", err)
	case <-time.After(10 * time.Minute):
		mu.Lock()
		defer mu.Unlock()
		return res, fmt.Errorf("not every event applied within 10 minutes: %v of %d", applied, len(d.events))
	}
	end := time.Now()
	_ = router.Close()
	<-ran
	mu.Lock()
	defer mu.Unlock()
	res.fromStart = float64(len(d.events)) / end.Sub(start).Seconds()
	res.steady = float64(len(d.events)) / end.Sub(first).Seconds()
	res.perBatch = float64(len(d.events)*len(names)) / float64(batches)
	res.perModel = map[string]float64{}
	for name, at := range finished {
		res.perModel[name] = float64(len(d.events)) / at.Sub(start).Seconds()
	}
	return res, nil
}

// fillTopic creates a one-partition topic and sends the campaign through the relay's publisher.
func (e *env) fillTopic(d *pipelineData, topic string) error {
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: strings.Split(e.brokers, ","), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer pub.Close()
	if _, err := pub.EnsureTopic(e.ctx, topic, 1); err != nil {
		return err
	}
	for i := 0; i < len(d.msgs); i += 5000 {
		for _, err := range pub.Send(e.ctx, topic, d.msgs[i:min(i+5000, len(d.msgs))]) {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// participantRow is one row of raw_participants (section 4's table).
type participantRow struct {
	id, event                uuid.UUID
	seq, pathSeq, position   int64
	entry, name, phone, path string
	at                       time.Time
}

func participantRows(events []eventstore.RecordedEvent) ([]participantRow, error) {
	var rows []participantRow
	pathSeq := map[domain.EntryPath]int64{}
	for _, ev := range events {
		if ev.Type != domain.TypeParticipantRegistered {
			continue
		}
		var reg domain.ParticipantRegistered
		if err := json.Unmarshal(ev.Data, &reg); err != nil {
			return nil, err
		}
		pathSeq[reg.EntryPath]++
		rows = append(rows, participantRow{id: reg.ParticipantID, event: reg.EventID, seq: int64(len(rows) + 1), pathSeq: pathSeq[reg.EntryPath],
			position: ev.Position, entry: reg.EntryNumber, name: reg.Name, phone: reg.Phone, path: string(reg.EntryPath), at: reg.Timestamp})
	}
	return rows, nil
}

// unnestRun inserts rows 1,000 per transaction into a fresh indexed table.
func (e *env) unnestRun(rows []participantRow) (float64, error) {
	_, pool, err := e.freshDatabase("bench_projector_raw", 4)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if _, err := pool.Exec(e.ctx, rawParticipantsDDL); err != nil {
		return 0, err
	}
	e.checkpoint()
	start := time.Now()
	for i := 0; i < len(rows); i += 1000 {
		if err := insertUnnest(e, pool, rows[i:min(i+1000, len(rows))]); err != nil {
			return 0, err
		}
	}
	return float64(len(rows)) / time.Since(start).Seconds(), nil
}

func insertUnnest(e *env, pool *pgxpool.Pool, rows []participantRow) error {
	n := len(rows)
	ids, events := make([]pgtype.UUID, n), make([]pgtype.UUID, n) // binary, not a string each
	seqs, pathSeqs, positions := make([]int64, n), make([]int64, n), make([]int64, n)
	entries, names, phones, paths := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ats := make([]time.Time, n)
	for i, r := range rows {
		ids[i], events[i] = pgtype.UUID{Bytes: r.id, Valid: true}, pgtype.UUID{Bytes: r.event, Valid: true}
		seqs[i], pathSeqs[i], positions[i] = r.seq, r.pathSeq, r.position
		entries[i], names[i], phones[i], paths[i], ats[i] = r.entry, r.name, r.phone, r.path, r.at
	}
	_, err := pool.Exec(e.ctx, `INSERT INTO raw_participants (participant_id, event_id, seq, path_seq, position, entry_number,
		name_masked, phone_masked, entry_path, participated_at)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])`,
		ids, events, seqs, pathSeqs, positions, entries, names, phones, paths, ats)
	return err
}
