package eventstore

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopevents/participation/internal/testenv"
)

// A split read's half (a ctid range) is read through the campaign's own
// rows: under the candidates read's plan settings the planner once took a
// TID range scan, reading half of the whole table, every campaign's rows.
func TestASplitCandidatesReadReadsItsCampaignsRows(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t, 1)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	const seed = `INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position)
		SELECT $1, gen_random_uuid(), 'E' || g, 1 FROM generate_series(1, $2::int) g`
	for _, c := range []struct {
		campaign string
		rows     int
	}{{"other-campaign", 150_000}, {"this-campaign", 20_000}} {
		if _, err := tx.Exec(ctx, seed, c.campaign, c.rows); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, "ANALYZE draw_candidates"); err != nil {
		t.Fatal(err)
	}
	var pages int64
	if err := tx.QueryRow(ctx, `SELECT pg_relation_size('draw_candidates') / current_setting('block_size')::bigint`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, candidatesPlanSet); err != nil {
		t.Fatal(err)
	}
	half := fmt.Sprintf(` AND ctid < '(%d,0)'::tid`, pages/2)
	rows, err := tx.Query(ctx, `EXPLAIN `+candidatesQuery(`'this-campaign'`)+half)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "Index Cond") || strings.Contains(p, "Tid Range Scan") {
		t.Errorf("a half's read does not go through the campaign's index:\n%s", p)
	}
}
