package eventstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/testenv"
)

// The joined read's strings split back into exactly their rows: entry
// numbers of any form, an empty one included; a piece more than the rows
// counted (an entry number holding the separator) is refused, not read as
// two candidates.
func TestAddJoinedSplitsExactlyTheCountedRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		joined  string
		count   int64
		visited bool
		want    []domain.Candidate
		err     error
	}{
		{"none", "", 0, false, nil, nil},
		{"one", "AB23-CD45", 1, true, []domain.Candidate{{EntryNumber: "AB23-CD45", Visited: true}}, nil},
		{"canonical_and_other", "AB23-CD45,legacy entry 7,멀티바이트-1", 3, false,
			[]domain.Candidate{{EntryNumber: "AB23-CD45"}, {EntryNumber: "legacy entry 7"}, {EntryNumber: "멀티바이트-1"}}, nil},
		{"an_empty_entry_number", "AB23-CD45,", 2, false, []domain.Candidate{{EntryNumber: "AB23-CD45"}, {EntryNumber: ""}}, nil},
		{"a_comma_in_an_entry_number", "AB23-CD45,a,b", 2, false, nil, errJoinedMismatch},
		{"fewer_pieces_than_rows", "AB23-CD45", 2, false, nil, errJoinedMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := domain.NewCandidateSet(0)
			err := addJoined(set, []byte(tt.joined), tt.count, tt.visited)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if got := set.Candidates(); tt.err == nil && !slices.Equal(got, tt.want) {
				t.Errorf("candidates %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestQuoteLiteral(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, standard, want string
		ok                 bool
	}{
		{"campaign-1", "on", "'campaign-1'", true},
		{"it's", "on", "'it''s'", true},
		{`back\slash'`, "on", `'back\slash'''`, true},
		{"x", "off", "", false},
		{"nul\x00", "on", "", false},
	}
	for _, tt := range tests {
		got, err := quoteLiteral(tt.in, tt.standard)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("quoteLiteral(%q, %s) = %q, %v; want %q, ok %t", tt.in, tt.standard, got, err, tt.want, tt.ok)
		}
	}
}

// A campaign registered since the table's last ANALYZE looks like a
// handful of rows to the planner, which would walk the primary key (a
// heap fetch per candidate, in participant-id order); the draw's read
// keeps to a plan that reads the campaign's pages in physical order, and
// gives the settings back for the rest of the draw's transaction.
func TestDrawCandidatesReadAvoidsIndexScansOfAnUnanalyzedCampaign(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t, 2)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	seed := `INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position)
		SELECT $1, gen_random_uuid(), 'AB23-' || lpad(g::text, 5, '0'), g FROM generate_series(1, 20000) g`
	if _, err := pool.Exec(ctx, seed, "analyzed"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE draw_candidates`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, seed, "fresh"); err != nil {
		t.Fatal(err)
	}
	plan := func(tx pgx.Tx) string {
		t.Helper()
		var p string
		if err := tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+sqlCandidates, "fresh").Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// every setting the read changes, as the rest of the draw's
	// transaction must find it
	setting := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) string {
		t.Helper()
		var s string
		if err := q.QueryRow(ctx, `SELECT concat_ws(' ', current_setting('enable_indexscan'), current_setting('enable_indexonlyscan'),
			current_setting('enable_seqscan'), current_setting('work_mem'))`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	defaults := setting(pool)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if p := plan(tx); !strings.Contains(p, `"Index Scan"`) {
			t.Fatalf("the setup does not reproduce the planner's choice of an index scan: %s", p)
		}
		if _, err := tx.Exec(ctx, candidatesPlanSet); err != nil {
			return err
		}
		if s := setting(tx); s == defaults {
			t.Fatalf("the read's settings are the defaults (%q): nothing to reset", s)
		}
		if p := plan(tx); strings.Contains(p, `"Index Scan"`) || strings.Contains(p, `"Index Only Scan"`) {
			t.Errorf("the draw's read walks an index: %s", p)
		}
		if _, err := tx.Exec(ctx, candidatesPlanReset); err != nil {
			return err
		}
		if s := setting(tx); s != defaults {
			t.Errorf("settings after the read: %q, want %q", s, defaults)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = New(pool).Exclusive(ctx, "fence", func(ctx context.Context, tx *Tx) error {
		set, _, err := tx.DrawCandidates(ctx, "fresh")
		if err != nil {
			return err
		}
		if set.Len() != 20000 {
			t.Errorf("%d candidates, want 20000", set.Len())
		}
		if s := setting(tx.tx); s != defaults {
			t.Errorf("settings after DrawCandidates: %q, want %q", s, defaults)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
