package eventstore

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/internal/testenv"
)

// seqScans is how many sequential scans of table this transaction made.
func seqScans(t *testing.T, tx pgx.Tx, table string) int64 {
	t.Helper()
	var n int64
	if err := tx.QueryRow(context.Background(), `SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables WHERE relname = $1`,
		table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The lookups of the write path and of the relay stay index probes when
// their table grows after a connection's first calls (a fresh database):
// a plan cached while the table held a few rows would scan it whole, for
// every batch, for as long as the connection lives.
func TestLookupsStayIndexProbesAsTheirTableGrows(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t, 2)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		table  string
		seed   string // rows of table: $1 of them, numbered from $2
		lookup func(tx pgx.Tx) error
	}{
		{
			name:  "closing streams and stream versions, in the append engine",
			table: "events",
			seed: `INSERT INTO events (position, tx_id, event_id, stream_id, stream_version, type, data)
				SELECT nextval('events_position_seq'), pg_current_xact_id(), gen_random_uuid(), 'participant-' || g, 1, 'Noted', '{}'
				FROM generate_series($2::int, $2 + $1 - 1) g`,
			lookup: func(tx pgx.Tx) error { return appendRegistrations(ctx, tx) },
		},
		{
			name:  "entry numbers, in the append engine",
			table: "draw_candidates",
			seed: `INSERT INTO draw_candidates (event_id, participant_id, entry_number, last_position)
				SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'E' || g, 1 FROM generate_series($2::int, $2 + $1 - 1) g`,
			lookup: func(tx pgx.Tx) error { return appendRegistrations(ctx, tx) },
		},
		{
			name:   "keys, in the append engine",
			table:  "event_keys",
			seed:   `INSERT INTO event_keys (key, stream_id) SELECT 'k' || g, 's' FROM generate_series($2::int, $2 + $1 - 1) g`,
			lookup: func(tx pgx.Tx) error { return appendRegistrations(ctx, tx) },
		},
		{
			name:  "subject keys, read by the relay",
			table: "pii_keys",
			seed:  `INSERT INTO pii_keys (participant_id, wrapped) SELECT gen_random_uuid(), '\x00' FROM generate_series($2::int, $2 + $1 - 1)`,
			lookup: func(tx pgx.Tx) error {
				ids := make([]uuid.UUID, 50) // a relay batch's registrations
				for i := range ids {
					ids[i] = uuid.New()
				}
				_, err := subjectKeys(ctx, tx, ids)
				return err
			},
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// One connection, one transaction: the plan cache is the
			// connection's, the scan counts the transaction's.
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			from := (i + 1) * 1_000_000
			if _, err := tx.Exec(ctx, c.seed, 5, from); err != nil {
				t.Fatal(err)
			}
			// Statistics of a few rows, as autovacuum takes them early on.
			if _, err := tx.Exec(ctx, "ANALYZE "+c.table); err != nil {
				t.Fatal(err)
			}
			for range 10 { // past the five custom plans after which PostgreSQL may keep a generic one
				if err := c.lookup(tx); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := tx.Exec(ctx, c.seed, 50_000, from+10); err != nil {
				t.Fatal(err)
			}
			before := seqScans(t, tx, c.table)
			if err := c.lookup(tx); err != nil {
				t.Fatal(err)
			}
			if n := seqScans(t, tx, c.table) - before; n != 0 {
				t.Errorf("the lookup scanned %s (50,005 rows) whole %d time(s), want an index probe", c.table, n)
			}
		})
	}
}

// appendRegistrations appends a batch of 20 registrations into one
// campaign, each with a closing stream, an entry number and a key.
func appendRegistrations(ctx context.Context, tx pgx.Tx) error {
	closer := "draw-" + uuid.NewString()
	reqs := make([]AppendRequest, 20)
	for i := range reqs {
		id, entry := uuid.NewString(), uuid.NewString()[:8]
		reqs[i] = AppendRequest{Stream: "participant-" + id, ClosedBy: closer, Keys: []string{uuid.NewString()},
			Entry: &EntryClaim{Campaign: uuid.Nil, Number: entry},
			Events: []EventData{{Type: "ParticipantRegistered", SchemaVersion: 1, PartitionKey: uuid.Nil.String(),
				Data: []byte(`{"participantId":"` + id + `","entryNumber":"` + entry + `"}`)}}}
	}
	return appendAll(ctx, tx, true, reqs, make([]AppendResult, len(reqs)), make([]error, len(reqs)))
}
