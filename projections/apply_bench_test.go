package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/projections"
)

// benchBatch is the batch size of the batched benchmarks: what the router
// takes at most from one subscriber (RouterConfig.MaxBatch's default).
const benchBatch = 1000

// registrations returns n registrations of one campaign (one partition
// key) at positions from+1 on, as the relay would publish them.
func registrations(campaign uuid.UUID, from, n int) []eventstore.RecordedEvent {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	paths := []domain.EntryPath{"INSTAGRAM", "KAKAO", "STORE_QR", "WOORIDONGNE_TV"}
	out := make([]eventstore.RecordedEvent, n)
	for j := range n {
		i := from + j
		reg := domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: campaign,
			EntryNumber: fmt.Sprintf("%04d-%04d", i/10000, i%10000), Name: "김철수", Phone: "010-1234-5678",
			EntryPath: paths[i%len(paths)], PrivacyConsent: true, Timestamp: at.Add(time.Duration(i) * time.Second)}
		data, _ := json.Marshal(reg)
		out[j] = eventstore.RecordedEvent{ID: uuid.New(), StreamID: reg.StreamID(), StreamVersion: 1, Position: int64(i + 1),
			PartitionKey: campaign.String(), Type: domain.TypeParticipantRegistered, SchemaVersion: 1, Data: data, RecordedAt: reg.Timestamp}
	}
	return out
}

// BenchmarkApplyRegistration applies registrations of one campaign one by
// one (a transaction per event), as the projectors did before batching.
func BenchmarkApplyRegistration(b *testing.B) {
	for _, name := range projections.Names() {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			p, err := projections.NewProjector(name, e.pool, nil)
			if err != nil {
				b.Fatal(err)
			}
			campaign := uuid.New()
			for i := 0; b.Loop(); i++ {
				if err := p.Apply(context.Background(), registrations(campaign, i, 1)[0]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkApplyBatch applies registrations of one campaign — one
// partition — in batches of benchBatch, one durable transaction each, as
// the router does; "baseline" is a multi-row INSERT of rows as wide as a
// participant's into a table indexed like participants, a transaction per
// batch, on the same database.
func BenchmarkApplyBatch(b *testing.B) {
	for _, name := range projections.Names() {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			p, err := projections.NewProjector(name, e.pool, nil)
			if err != nil {
				b.Fatal(err)
			}
			campaign := uuid.New()
			events := 0
			for b.Loop() {
				b.StopTimer()
				batch := registrations(campaign, events, benchBatch)
				b.StartTimer()
				if _, err := p.ApplyBatch(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				events += benchBatch
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
	b.Run("baseline_multirow_insert", func(b *testing.B) {
		e := newEnv(b)
		ctx := context.Background()
		if _, err := e.pool.Exec(ctx, rawParticipantsDDL); err != nil {
			b.Fatal(err)
		}
		campaign := uuid.New()
		rows := 0
		for b.Loop() {
			b.StopTimer()
			ids, seqs, numbers, paths, ats := make([]uuid.UUID, benchBatch), make([]int64, benchBatch),
				make([]string, benchBatch), make([]string, benchBatch), make([]time.Time, benchBatch)
			for j := range benchBatch {
				i := rows + j
				ids[j], seqs[j], numbers[j] = uuid.New(), int64(i+1), fmt.Sprintf("%04d-%04d", i/10000, i%10000)
				paths[j], ats[j] = "INSTAGRAM", time.Now()
			}
			b.StartTimer()
			err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO raw_participants (participant_id, event_id, seq, path_seq, position,
					entry_number, name_masked, phone_masked, entry_path, participated_at)
					SELECT id, $2, s, s, s, n, '김**', '010-****-5678', p, at
					FROM unnest($1::uuid[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) AS u(id, s, n, p, at)`,
					ids, campaign, seqs, numbers, paths, ats)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			rows += benchBatch
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
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
