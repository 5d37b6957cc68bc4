package eventstore

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/internal/testenv"
)

// A registration writes its event, its data key and its draw candidate,
// and no other row in any table: no stream row, no key row. The counts are
// PostgreSQL's own, of every table the transaction wrote.
func TestARegistrationWritesThreeRows(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t, 2)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	campaign := uuid.New()
	const n = 5
	reqs := make([]AppendRequest, n)
	for i := range reqs {
		id, entry := uuid.New(), fmt.Sprintf("AB23-CD4%d", i)
		reqs[i] = AppendRequest{
			Stream: "participant-" + id.String(), Expected: NoStream,
			Events: []EventData{{Type: "ParticipantRegistered", SchemaVersion: 2, PartitionKey: campaign.String(),
				Data: fmt.Appendf(nil, `{"participantId":%q,"entryNumber":%q}`, id, entry)}},
			Entry:      &EntryClaim{Campaign: campaign, Number: entry},
			Fence:      "campaign-" + campaign.String(),
			ClosedBy:   "draw-" + campaign.String(),
			SubjectKey: &SubjectKey{Subject: id, Wrapped: []byte{1}},
		}
	}
	before := written(t, tx)
	errs := make([]error, n)
	if err := appendAll(ctx, tx, true, reqs, make([]AppendResult, n), errs); err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	got := maps.Clone(written(t, tx))
	for table, n := range before {
		if got[table] -= n; got[table] == 0 {
			delete(got, table)
		}
	}
	want := map[string]int64{"events": n, "pii_keys": n, "draw_candidates": n}
	if !maps.Equal(got, want) {
		t.Fatalf("rows written by %d registrations = %v, want %v", n, got, want)
	}
}

// written is how many rows of each table the backend wrote, as PostgreSQL
// counts them (including its recent transactions not yet reported).
func written(t *testing.T, tx pgx.Tx) map[string]int64 {
	t.Helper()
	rows, err := tx.Query(context.Background(), `SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables
		WHERE n_tup_ins + n_tup_upd + n_tup_del > 0`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	var (
		table string
		count int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&table, &count}, func() error { out[table] = count; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}
