package eventstore

import (
	"context"
	"strings"
	"testing"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/testenv"
)

// A split read's half (an entry-number range) is read through its range
// of the campaign's entry-number index: not the whole table (a sequential
// scan, the planner's choice for a campaign filling most of it), nor the
// whole campaign's rows with half of them dropped (the primary key).
func TestASplitCandidatesReadReadsItsHalfThroughTheIndex(t *testing.T) {
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
		SELECT $1, gen_random_uuid(), substr($3, 1 + g % 31, 1) || g, 1 FROM generate_series(1, $2::int) g`
	for _, c := range []struct {
		campaign string
		rows     int
	}{{"other-campaign", 20_000}, {"this-campaign", 150_000}} {
		if _, err := tx.Exec(ctx, seed, c.campaign, c.rows, domain.EntryNumberAlphabet); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, "ANALYZE draw_candidates"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, candidatesPlanSet); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN `+sqlCandidates+` AND entry_number >= '`+entryHalfway+`'`, "this-campaign")
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
	p := strings.Join(plan, "\n")
	if !strings.Contains(p, "Bitmap Index Scan on draw_candidates_entry_number_key") || !strings.Contains(p, "(entry_number >= '"+entryHalfway+"'") || strings.Contains(p, "Seq Scan") {
		t.Errorf("a half's read does not go through its range of the entry-number index:\n%s", p)
	}
}
