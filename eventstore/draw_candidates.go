package eventstore

import (
	"context"
	"encoding/binary"
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
// A million rows through pgx's row reader cost more than the query itself,
// so the rows come as a binary COPY and are decoded here, straight from
// the wire into a domain.CandidateSet: a million candidates cost a handful
// of allocations, not a million, and no pointers for the collector to scan.
func (t *Tx) DrawCandidates(ctx context.Context, partitionKey string) (*domain.CandidateSet, int64, error) {
	var cutoff int64
	if err := t.tx.QueryRow(ctx, sqlDrawCutoff, partitionKey).Scan(&cutoff); err != nil {
		return nil, 0, fmt.Errorf("draw cut-off: %w", err)
	}
	// The server's side of the read is mostly COPY's output, a row at a
	// time on one backend (0.8 s of its CPU over a million candidates with
	// their participant ids, 0.5 s without, the scan 0.15 s of it): the table's pages are split in two halves, one
	// read here, the other at the same time by a second connection in this
	// transaction's exported snapshot, so that both cores serve it.
	var other *candidateHalf
	low, high := ``, ``
	if idle := t.idleConn(ctx); idle != nil {
		defer idle.Release()
		// Split by page (a TID range each): every page is read once.
		var snapshot string
		var pages int64
		if err := t.tx.QueryRow(ctx, sqlSplitRead).Scan(&snapshot, &pages); err != nil {
			return nil, 0, fmt.Errorf("draw candidates: %w", err)
		}
		middle := fmt.Sprintf(`'(%d,0)'::tid`, pages/2)
		low, high = ` AND ctid < `+middle, ` AND ctid >= `+middle
		other = &candidateHalf{done: make(chan struct{})}
		go func() {
			defer close(other.done)
			other.set, other.err = readCandidatesInSnapshot(ctx, idle.Conn(), snapshot, partitionKey, high)
		}()
	}
	set, err := copyCandidates(ctx, t.tx, partitionKey, low)
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
	return copyCandidates(ctx, tx, partitionKey, half)
}

// newConnWait bounds the wait for a new connection of a split read; then
// the read is one.
const newConnWait = 250 * time.Millisecond

// sqlSplitRead exports the fence transaction's snapshot for the second
// half's connection, and gives the table's pages to split them in two.
const sqlSplitRead = `SELECT pg_export_snapshot(), pg_relation_size('draw_candidates') / current_setting('block_size')::bigint`

// copyCandidates reads the candidates of a partition (those of half) as a
// binary COPY, decoded as the rows arrive.
func copyCandidates(ctx context.Context, tx pgx.Tx, partitionKey, half string) (*domain.CandidateSet, error) {
	conn := tx.Conn().PgConn()
	key, err := quoteLiteral(partitionKey, conn.ParameterStatus("standard_conforming_strings"))
	if err != nil {
		return nil, err
	}
	// COPY takes no parameters: the key is a quoted literal.
	sql := `COPY (` + candidatesQuery(key) + half + `) TO STDOUT (FORMAT binary)`
	// A campaign registered since the last ANALYZE looks tiny to the
	// planner, which then walks the primary key: a million heap fetches in
	// participant-id order, 2.5–2.9 s of backend time over a fresh 1M
	// campaign. Without plain index scans, the key still finds the
	// campaign's pages (a bitmap scan, or a sequential one when the table
	// is mostly this campaign) and they are read in physical order:
	// 0.6 s. The settings go back to their defaults before the draw's
	// appends.
	if _, err := tx.Exec(ctx, candidatesPlanSet); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	d := candidateDecoder{set: domain.NewCandidateSet(0)}
	if _, err := conn.CopyTo(ctx, &d, sql); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, candidatesPlanReset); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return d.set, nil
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

// candidatesQuery selects a partition's candidates; key is a quoted literal.
func candidatesQuery(key string) string {
	return `SELECT entry_number, visited FROM draw_candidates WHERE event_id = ` + key + ` AND NOT erased`
}

// ParticipantIDs names a draw's picks: the participant id of each entry
// number of partitionKey, read in the transaction that read the candidates.
func (t *Tx) ParticipantIDs(ctx context.Context, partitionKey string, entryNumbers []string) (map[string]uuid.UUID, error) {
	rows, err := t.tx.Query(ctx, `SELECT entry_number, participant_id FROM draw_candidates
		WHERE event_id = $1 AND entry_number = ANY($2)`, partitionKey, entryNumbers)
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

// The candidates read's plan settings, for its own statement only.
const (
	// No TID range scan either: given a split read's half (a ctid range)
	// the planner read half of the whole table, every campaign's rows, and
	// filtered them; the campaign's bitmap scan takes the range as a filter
	// (TestASplitCandidatesReadReadsItsCampaignsRows).
	candidatesPlanSet   = `SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_tidscan = off`
	candidatesPlanReset = `SET LOCAL enable_indexscan TO DEFAULT; SET LOCAL enable_indexonlyscan TO DEFAULT; SET LOCAL enable_tidscan TO DEFAULT`
)

// quoteLiteral quotes s as an SQL string literal; with
// standard_conforming_strings on (the default since PostgreSQL 9.1), only
// the quote itself needs escaping.
func quoteLiteral(s, standardStrings string) (string, error) {
	if standardStrings != "on" {
		return "", errors.New("standard_conforming_strings is not on")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("partition key holds a NUL byte")
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

// copySignature opens every binary COPY: the signature, 32 bits of flags
// and the header extension's length.
const copySignature = "PGCOPY\n\xff\r\n\x00"

// candidateDecoder decodes a binary COPY of (text, boolean) rows as
// they arrive, in whatever pieces the connection hands them over.
type candidateDecoder struct {
	buf       []byte // bytes not yet decoded
	header    bool   // the header has been read
	trailer   bool   // the end-of-data marker has been read
	set       *domain.CandidateSet
	malformed error
}

func (d *candidateDecoder) Write(p []byte) (int, error) {
	if d.malformed != nil {
		return 0, d.malformed
	}
	data := p
	if len(d.buf) > 0 {
		d.buf = append(d.buf, p...)
		data = d.buf
	}
	used, err := d.decode(data)
	if err != nil {
		d.malformed = err
		return 0, err
	}
	rest := data[used:]
	if len(d.buf) > 0 {
		d.buf = append(d.buf[:0], rest...)
	} else {
		d.buf = append(d.buf, rest...)
	}
	return len(p), nil
}

// decode decodes the complete parts of b and returns how many bytes it used.
func (d *candidateDecoder) decode(b []byte) (int, error) {
	off := 0
	if !d.header {
		const fixed = len(copySignature) + 8
		if len(b) < fixed {
			return 0, nil
		}
		if string(b[:len(copySignature)]) != copySignature {
			return 0, errors.New("not a binary COPY")
		}
		ext := int(binary.BigEndian.Uint32(b[len(copySignature)+4:]))
		if len(b) < fixed+ext {
			return 0, nil
		}
		off, d.header = fixed+ext, true
	}
	for off+2 <= len(b) {
		if d.trailer {
			return 0, errors.New("data after the end of a binary COPY")
		}
		fields := int16(binary.BigEndian.Uint16(b[off:]))
		if fields == -1 {
			d.trailer = true
			off += 2
			continue
		}
		if fields != 2 {
			return 0, fmt.Errorf("binary COPY row of %d fields, want 2", fields)
		}
		// 2 (count) + 4+n (text) + 4+1 (boolean)
		if off+2+4 > len(b) {
			break
		}
		n := int(int32(binary.BigEndian.Uint32(b[off+2:])))
		if n < 0 {
			return 0, errors.New("binary COPY: NULL entry number")
		}
		end := off + 6 + n + 5
		if end > len(b) {
			break
		}
		if binary.BigEndian.Uint32(b[off+6+n:]) != 1 {
			return 0, errors.New("binary COPY: visited is not a boolean")
		}
		d.set.AddEntry(b[off+6:off+6+n], b[end-1] == 1)
		off = end
	}
	return off, nil
}

// finish checks that the COPY was complete.
func (d *candidateDecoder) finish() error {
	if d.malformed != nil {
		return d.malformed
	}
	if !d.header || !d.trailer || len(d.buf) > 0 {
		return errors.New("binary COPY ended early")
	}
	return nil
}
