package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// sampleRegistration is a real ParticipantRegistered as the service stores it.
func sampleRegistration(piiKey []byte) (eventstore.EventData, error) {
	now := time.Now()
	opened, err := domain.OpenCampaign(uuid.New(), "bench", "bench", now.Add(-time.Hour), now.Add(time.Hour), now.Add(2*time.Hour))
	if err != nil {
		return eventstore.EventData{}, err
	}
	c := domain.CampaignFromOpened(opened)
	entry, err := domain.NewEntryNumber(rand.Reader)
	if err != nil {
		return eventstore.EventData{}, err
	}
	reg, err := c.Register(domain.RegistrationInput{Name: "김철수", Phone: "010-1234-5678", EntryPath: "INSTAGRAM", PrivacyConsent: true},
		now, piiKey, entry)
	if err != nil {
		return eventstore.EventData{}, err
	}
	data, err := json.Marshal(reg)
	if err != nil {
		return eventstore.EventData{}, err
	}
	return eventstore.EventData{PartitionKey: c.ID.String(), Type: reg.EventType(), SchemaVersion: domain.SchemaVersion, Data: data,
		Metadata: eventstore.Metadata{CorrelationID: uuid.NewString(), CausationID: uuid.NewString(), Actor: "customer"}}, nil
}

// loop runs fn on g goroutines back to back for warmup+dur and returns the
// units (events) per second completed inside the measured window.
func (e *env) loop(g int, warmup, dur time.Duration, fn func(ctx context.Context) (int, error)) (float64, error) {
	start := time.Now()
	from, to := start.Add(warmup), start.Add(warmup+dur)
	var units atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for {
				if !time.Now().Before(to) || e.ctx.Err() != nil {
					return
				}
				n, err := fn(e.ctx)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				if t := time.Now(); !t.Before(from) && !t.After(to) {
					units.Add(int64(n))
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(units.Load()) / dur.Seconds(), nil
}

func (e *env) section2() *Section {
	s := &Section{Number: 2, Title: titles[2], Status: "measured"}
	fail := func(err error) *Section { s.Status = "error: " + err.Error(); return s }
	_, pool, err := e.freshDatabase("bench_store", 40)
	if err != nil {
		return fail(err)
	}
	defer pool.Close()
	if err := eventstore.Migrate(e.ctx, pool); err != nil {
		return fail(err)
	}
	if _, err := pool.Exec(e.ctx, `CREATE TABLE raw_events (
		position bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL,
		type text NOT NULL, data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fail(err)
	}
	store := eventstore.New(pool)
	ev, err := sampleRegistration([]byte(e.piiKey))
	if err != nil {
		return fail(err)
	}
	batch := make([]eventstore.EventData, 100)
	for i := range batch {
		batch[i] = ev
	}

	workloads := map[string]func(ctx context.Context) (int, error){
		"append": func(ctx context.Context) (int, error) {
			_, err := store.Append(ctx, "participant-"+uuid.NewString(), eventstore.NoStream, ev)
			return 1, err
		},
		"raw": func(ctx context.Context) (int, error) {
			_, err := pool.Exec(ctx, `INSERT INTO raw_events (event_id, stream_id, type, data) VALUES ($1, $2, $3, $4)`,
				uuid.New(), "participant-"+uuid.NewString(), ev.Type, ev.Data)
			return 1, err
		},
		"append100": func(ctx context.Context) (int, error) {
			_, err := store.Append(ctx, "participant-"+uuid.NewString(), eventstore.NoStream, batch...)
			return len(batch), err
		},
		"appendBatch100": func(ctx context.Context) (int, error) {
			reqs := make([]eventstore.AppendRequest, 100)
			fence := "campaign-" + ev.PartitionKey
			for i := range reqs {
				reqs[i] = eventstore.AppendRequest{Stream: "participant-" + uuid.NewString(), Expected: eventstore.NoStream,
					Events: []eventstore.EventData{ev}, Keys: []string{"entry:" + uuid.NewString()},
					Fence: fence, ClosedBy: "draw-" + ev.PartitionKey}
			}
			_, errs, err := store.AppendBatch(ctx, reqs)
			if err == nil {
				for _, e := range errs {
					if e != nil {
						return 0, e
					}
				}
			}
			return len(reqs), err
		},
		"raw100": func(ctx context.Context) (int, error) {
			ids, streams := make([]uuid.UUID, 100), make([]string, 100)
			data := make([][]byte, 100)
			for i := range ids {
				ids[i], streams[i], data[i] = uuid.New(), "participant-"+uuid.NewString(), ev.Data
			}
			_, err := pool.Exec(ctx, `INSERT INTO raw_events (event_id, stream_id, type, data)
				SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[])`, ids, streams, repeat(ev.Type, 100), data)
			return len(ids), err
		},
	}
	type pair struct {
		label, measured, baseline string
		target                    float64
	}
	pairs := []pair{
		{"single event per transaction", "append", "raw", 0.8},
		{"100 events per transaction (one stream)", "append100", "raw100", 0.8},
		{"100 registrations per transaction (AppendBatch: keys, fence, closing stream — the group-commit path)", "appendBatch100", "raw100", 0},
	}
	warm := time.Second
	runs := map[string][]float64{}
	for _, g := range []int{1, 16} {
		for _, p := range pairs {
			for rep := range e.o.reps {
				order := []string{p.measured, p.baseline}
				if rep%2 == 1 {
					order = []string{p.baseline, p.measured}
				}
				for _, w := range order {
					key := fmt.Sprintf("%s/%d", w, g)
					if w == p.baseline && len(runs[key]) > rep {
						continue // shared baseline already measured in this repetition
					}
					e.checkpoint()
					rate, err := e.loop(g, warm, e.o.storeDuration, workloads[w])
					if err != nil {
						return fail(fmt.Errorf("%s with %d goroutines: %w", w, g, err))
					}
					log.Printf("section 2: %-14s %2d goroutines run %d: %.0f events/s", w, g, rep+1, rate)
					runs[key] = append(runs[key], rate)
				}
			}
			row := Row{Label: fmt.Sprintf("%s, %d goroutine(s)", p.label, g),
				Measured: newFigure("store", "events/s", runs[fmt.Sprintf("%s/%d", p.measured, g)]),
				Baseline: newFigure("raw", "events/s", runs[fmt.Sprintf("%s/%d", p.baseline, g)])}
			row.Ratio = ratio(row.Measured, row.Baseline)
			if p.target > 0 {
				row.Target = fmt.Sprintf("≥ %.1f×", p.target)
				row.Met = boolp(row.Ratio != nil && *row.Ratio >= p.target)
			} else {
				row.Target = "(informative)"
			}
			s.add(row)
		}
	}
	s.note("Own database `bench_store` on the same server, %s per run after 1 s warm-up, measured and baseline runs alternating, CHECKPOINT before each. Event: a real ParticipantRegistered (%d bytes of JSON) with metadata.", e.o.storeDuration, len(ev.Data))
	s.note("Store single = `Store.Append` (BEGIN; claim the stream row; INSERT … RETURNING position; COMMIT). Raw single = one autocommit `INSERT INTO raw_events … VALUES ($1..$4)`. Store batched = `Store.Append` of 100 events to one stream; raw batched = one autocommit multi-row `INSERT … SELECT * FROM unnest(…)` of 100 rows.")
	s.detail("runs_events_per_s", runs)
	return s
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
