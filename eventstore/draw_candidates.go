package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
)

// DrawCandidates is what a draw reads under the partition's exclusive
// fence: the registrations that are not erased, as domain candidates known
// by their entry numbers (the leaves hold no participant id: ParticipantIDs
// names the few picked), and the cut-off — the partition's highest
// position, below which every event a replay needs (verify) is committed.
//
// The rows come aggregated (sqlCandidates) and are split here straight
// into a domain.CandidateSet: a million candidates cost a handful of
// allocations, not a million, and no pointers for the collector to scan.
func (t *Tx) DrawCandidates(ctx context.Context, partitionKey string) (*domain.CandidateSet, int64, error) {
	var cutoff int64
	if err := t.tx.QueryRow(ctx, sqlDrawCutoff, partitionKey).Scan(&cutoff); err != nil {
		return nil, 0, fmt.Errorf("draw cut-off: %w", err)
	}
	// The read is the server's work, on one backend: the candidates are split
	// in two halves, one read here, the other at the same time by a second
	// connection in this transaction's exported snapshot, so that both
	// cores serve it.
	var other *candidateHalf
	low, high := ``, ``
	if idle := t.idleConn(ctx); idle != nil {
		defer idle.Release()
		// Split by entry number, each half a range of the campaign's
		// entry-number index: each reads half the index and half the rows.
		// (By page, the halves of a campaign sharing the table with others
		// each read the whole campaign through its index and dropped half.)
		var snapshot string
		if err := t.tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
			return nil, 0, fmt.Errorf("draw candidates: %w", err)
		}
		low, high = ` AND entry_number < '`+entryHalfway+`'`, ` AND entry_number >= '`+entryHalfway+`'`
		other = &candidateHalf{done: make(chan struct{})}
		go func() {
			defer close(other.done)
			other.set, other.err = readCandidatesInSnapshot(ctx, idle.Conn(), snapshot, partitionKey, high)
		}()
	}
	set, err := readCandidates(ctx, t.tx, partitionKey, low)
	if other != nil {
		<-other.done
		err = errors.Join(err, other.err)
		if err == nil {
			set.AddSet(other.set)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("draw candidates: %w", err)
	}
	return set, cutoff, nil
}

// candidateHalf is the half of the candidates a second connection reads.
type candidateHalf struct {
	set  *domain.CandidateSet
	err  error
	done chan struct{}
}

// idleConn takes one idle connection of the pool, or a new one while the
// pool has room, or none: never waiting long for one, since every
// connection may be a registration waiting for the fence this transaction
// holds.
func (t *Tx) idleConn(ctx context.Context) *pgxpool.Conn {
	if t.pool == nil {
		return nil
	}
	idle := t.pool.AcquireAllIdle(ctx)
	if len(idle) == 0 {
		if st := t.pool.Stat(); st.TotalConns() >= st.MaxConns() {
			return nil
		}
		// room for a new connection, unless another request takes it first
		ctx, cancel := context.WithTimeout(ctx, newConnWait)
		defer cancel()
		c, err := t.pool.Acquire(ctx)
		if err != nil {
			return nil
		}
		return c
	}
	for _, c := range idle[1:] {
		c.Release()
	}
	return idle[0]
}

// readCandidatesInSnapshot reads one half of the candidates on conn in a
// read-only transaction of the exporting transaction's snapshot: exactly
// the rows that transaction sees.
func readCandidatesInSnapshot(ctx context.Context, conn *pgx.Conn, snapshot, partitionKey, half string) (*domain.CandidateSet, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	id, err := quoteLiteral(snapshot, conn.PgConn().ParameterStatus("standard_conforming_strings"))
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT `+id); err != nil {
		return nil, err
	}
	return readCandidates(ctx, tx, partitionKey, half)
}

// newConnWait bounds the wait for a new connection of a split read; then
// the read is one.
const newConnWait = 250 * time.Millisecond

// entryHalfway splits a split read's halves: the 16th of
// EntryNumberAlphabet's 31 characters, so that random entry numbers fall
// about evenly (others, in byte order, on either side).
const entryHalfway = "H"

// readCandidates reads the candidates of a partition (those of half).
func readCandidates(ctx context.Context, tx pgx.Tx, partitionKey, half string) (*domain.CandidateSet, error) {
	// A campaign registered since the last ANALYZE looks tiny to the
	// planner, which then walks the primary key: a million heap fetches in
	// participant-id order, 2.5–2.9 s of backend time over a fresh 1M
	// campaign. With bitmap scans only, the campaign's pages are read in
	// physical order. The settings go back to their defaults before the
	// draw's appends.
	if _, err := tx.Exec(ctx, candidatesPlanSet); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	var visitors, others int64
	var visitorEntries, otherEntries []byte
	if err := tx.QueryRow(ctx, sqlCandidates+half, partitionKey).Scan(&visitors, &visitorEntries, &others, &otherEntries); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, candidatesPlanReset); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	set := domain.NewCandidateSet(int(visitors + others))
	if err := addJoined(set, visitorEntries, visitors, true); err != nil {
		return nil, err
	}
	if err := addJoined(set, otherEntries, others, false); err != nil {
		return nil, err
	}
	return set, nil
}

// sqlCandidates reads a partition's candidates as two strings of entry
// numbers joined by commas, visitors' and the others', with their counts.
// A row at a time, COPY's or the row protocol's, costs both sides a
// message per row, more than the scan; aggregated, the server appends each
// entry number to one buffer and the client splits it. (A string is at
// most 1 GB: some 100 million candidates.)
const sqlCandidates = `SELECT count(*) FILTER (WHERE visited), string_agg(entry_number, ',') FILTER (WHERE visited),
	count(*) FILTER (WHERE NOT visited), string_agg(entry_number, ',') FILTER (WHERE NOT visited)
	FROM draw_candidates WHERE event_id = $1 AND NOT erased`

// errJoinedMismatch is a joined read that does not split into as many
// entry numbers as it has rows: one holds the separator, which no draw
// accepts (its leaf would not be plain: domain.LeavesOf refuses it too).
var errJoinedMismatch = errors.New("the entry numbers do not split into their rows (a comma in one)")

// addJoined adds count candidates from entry numbers joined by commas.
func addJoined(set *domain.CandidateSet, joined []byte, count int64, visited bool) error {
	if count == 0 {
		return nil
	}
	var n int64
	for {
		n++
		i := bytes.IndexByte(joined, ',')
		if i < 0 {
			set.AddEntry(joined, visited)
			break
		}
		set.AddEntry(joined[:i], visited)
		joined = joined[i+1:]
	}
	if n != count {
		return errJoinedMismatch
	}
	return nil
}

// sqlDrawCutoff is max(position) of a partition as one probe of
// events_partition_idx. Asked for max(position) WHERE partition_key = $1,
// the planner may walk the primary key backwards, skipping every later
// event of other campaigns (3.1 s behind 2.4 million of them), or read
// all the campaign's entries (1.2 s over a fresh one). The key as a range
// (equal to it under a deterministic collation) keeps partition_key in
// the order, which only events_partition_idx gives: 0.1–0.4 ms either way.
const sqlDrawCutoff = `SELECT coalesce((SELECT position FROM events
	WHERE partition_key >= $1 AND partition_key <= $1
	ORDER BY partition_key DESC, position DESC LIMIT 1), 0)`

// ParticipantIDs names a draw's picks: the participant id of each entry
// number of partitionKey that is a candidate, read under the fence that
// the candidates were read under (an erased one is not named, and the
// draw refuses a pick left unnamed).
func (t *Tx) ParticipantIDs(ctx context.Context, partitionKey string, entryNumbers []string) (map[string]uuid.UUID, error) {
	rows, err := t.tx.Query(ctx, `SELECT entry_number, participant_id FROM draw_candidates
		WHERE event_id = $1 AND entry_number = ANY($2) AND NOT erased`, partitionKey, entryNumbers)
	if err != nil {
		return nil, fmt.Errorf("participant ids: %w", err)
	}
	ids := make(map[string]uuid.UUID, len(entryNumbers))
	var entry string
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&entry, &id}, func() error { ids[entry] = id; return nil }); err != nil {
		return nil, fmt.Errorf("participant ids: %w", err)
	}
	return ids, nil
}

// The candidates read's plan settings, for its own statement only: the
// campaign's rows through a bitmap of its index, a split read's half
// through its entry-number range of draw_candidates_entry_number_key
// (TestASplitCandidatesReadReadsItsHalfThroughTheIndex). Not a sequential
// scan: each half would read the whole table. Enough memory for the bitmap
// to stay exact (one bit a row, not a page to recheck) past a million rows.
const (
	candidatesPlanSet = `SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off;
		SET LOCAL enable_seqscan = off; SET LOCAL work_mem = '64MB'`
	candidatesPlanReset = `SET LOCAL enable_indexscan TO DEFAULT; SET LOCAL enable_indexonlyscan TO DEFAULT;
		SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL work_mem TO DEFAULT`
)

// quoteLiteral quotes s as an SQL string literal; with
// standard_conforming_strings on (the default since PostgreSQL 9.1), only
// the quote itself needs escaping.
func quoteLiteral(s, standardStrings string) (string, error) {
	if standardStrings != "on" {
		return "", errors.New("standard_conforming_strings is not on")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("a literal holding a NUL byte")
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}
