package eventstore

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/testenv"
)

// binaryCopy encodes rows as PostgreSQL's binary COPY of (text, boolean):
// entry number and visited.
func binaryCopy(rows []domain.Candidate) []byte {
	b := append([]byte(copySignature), 0, 0, 0, 0, 0, 0, 0, 0)
	for _, r := range rows {
		b = binary.BigEndian.AppendUint16(b, 2)
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.EntryNumber)))
		b = append(b, r.EntryNumber...)
		b = binary.BigEndian.AppendUint32(b, 1)
		if r.Visited {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return binary.BigEndian.AppendUint16(b, 0xffff)
}

func decodeInPieces(data []byte, piece int) ([]domain.Candidate, error) {
	d := candidateDecoder{set: domain.NewCandidateSet(0)}
	for len(data) > 0 {
		n := min(piece, len(data))
		if _, err := d.Write(data[:n]); err != nil {
			return nil, err
		}
		data = data[n:]
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return d.set.Candidates(), nil
}

// The decoder gets the COPY in whatever pieces the connection hands over
// (one message per row, in practice): every split gives the same rows.
func TestCandidateDecoderAcceptsAnySplit(t *testing.T) {
	t.Parallel()
	rows := []domain.Candidate{
		{EntryNumber: "AB23-CD45", Visited: true},
		{EntryNumber: "XY99-ZZ22"},
		{EntryNumber: "legacy entry 7"}, // not canonical
		{EntryNumber: "", Visited: true},
	}
	data := binaryCopy(rows)
	for piece := 1; piece <= len(data); piece++ {
		got, err := decodeInPieces(data, piece)
		if err != nil {
			t.Fatalf("pieces of %d: %v", piece, err)
		}
		if !slices.Equal(got, rows) {
			t.Fatalf("pieces of %d: got %+v, want %+v", piece, got, rows)
		}
	}
}

func TestCandidateDecoderRejectsMalformedCopies(t *testing.T) {
	t.Parallel()
	good := binaryCopy([]domain.Candidate{{EntryNumber: "AB23-CD45"}})
	header := len(copySignature) + 8
	edit := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a binary COPY", []byte(strings.Repeat("x", 40))},
		{"no trailer", good[:len(good)-2]},
		{"cut inside a row", good[:header+10]},
		{"data after the trailer", append(slices.Clone(good), 0, 3)},
		{"a row of 3 fields", edit(func(b []byte) []byte { b[header+1] = 3; return b })},
		{"a NULL entry number", edit(func(b []byte) []byte { copy(b[header+2:], []byte{0xff, 0xff, 0xff, 0xff}); return b })},
		{"an entry number longer than the row", edit(func(b []byte) []byte { b[header+5] = 40; return b })},
		{"a 2-byte boolean", edit(func(b []byte) []byte { b[header+6+9+3] = 2; return b })},
	}
	for _, tt := range tests {
		for _, piece := range []int{1, 7, len(tt.data) + 1} {
			if got, err := decodeInPieces(tt.data, piece); err == nil {
				t.Errorf("%s (pieces of %d): decoded %+v, want an error", tt.name, piece, got)
			}
		}
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
		if err := tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+candidatesQuery("'fresh'")).Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	setting := func(tx pgx.Tx) string {
		t.Helper()
		var s string
		if err := tx.QueryRow(ctx, `SELECT current_setting('enable_indexscan') || current_setting('enable_indexonlyscan')`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if p := plan(tx); !strings.Contains(p, `"Index Scan"`) {
			t.Fatalf("the setup does not reproduce the planner's choice of an index scan: %s", p)
		}
		if _, err := tx.Exec(ctx, candidatesPlanSet); err != nil {
			return err
		}
		if p := plan(tx); strings.Contains(p, `"Index Scan"`) || strings.Contains(p, `"Index Only Scan"`) {
			t.Errorf("the draw's read walks an index: %s", p)
		}
		if _, err := tx.Exec(ctx, candidatesPlanReset); err != nil {
			return err
		}
		if s := setting(tx); s != "onon" {
			t.Errorf("settings after the read: %q, want on, on", s)
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
		if s := setting(tx.tx); s != "onon" {
			t.Errorf("settings after DrawCandidates: %q, want on, on", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
