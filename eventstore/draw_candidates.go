package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// DrawCandidates is what a draw reads under the partition's exclusive
// fence: the registrations that are not erased, as domain candidates, and
// the cut-off — the partition's highest position, below which every event
// a replay needs (verify) is committed.
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
	conn := t.tx.Conn().PgConn()
	key, err := quoteLiteral(partitionKey, conn.ParameterStatus("standard_conforming_strings"))
	if err != nil {
		return nil, 0, fmt.Errorf("draw candidates: %w", err)
	}
	// COPY takes no parameters: the key is a quoted literal.
	sql := `COPY (` + candidatesQuery(key) + `) TO STDOUT (FORMAT binary)`
	// A campaign registered since the last ANALYZE looks tiny to the
	// planner, which then walks the primary key: a million heap fetches in
	// participant-id order, 2.5–2.9 s of backend time over a fresh 1M
	// campaign. Without plain index scans, the key still finds the
	// campaign's pages (a bitmap scan, or a sequential one when the table
	// is mostly this campaign) and they are read in physical order:
	// 0.6 s. The settings go back to their defaults before the draw's
	// appends.
	if _, err := t.tx.Exec(ctx, candidatesPlanSet); err != nil {
		return nil, 0, fmt.Errorf("draw candidates plan: %w", err)
	}
	d := candidateDecoder{set: domain.NewCandidateSet(0)}
	if _, err := conn.CopyTo(ctx, &d, sql); err != nil {
		return nil, 0, fmt.Errorf("draw candidates: %w", err)
	}
	if _, err := t.tx.Exec(ctx, candidatesPlanReset); err != nil {
		return nil, 0, fmt.Errorf("draw candidates plan: %w", err)
	}
	if err := d.finish(); err != nil {
		return nil, 0, fmt.Errorf("draw candidates: %w", err)
	}
	return d.set, cutoff, nil
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
	return `SELECT participant_id, entry_number, visited FROM draw_candidates WHERE event_id = ` + key + ` AND NOT erased`
}

// The candidates read's plan settings, for its own statement only.
const (
	candidatesPlanSet   = `SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off`
	candidatesPlanReset = `SET LOCAL enable_indexscan TO DEFAULT; SET LOCAL enable_indexonlyscan TO DEFAULT`
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

// candidateDecoder decodes a binary COPY of (uuid, text, boolean) rows as
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
		if fields != 3 {
			return 0, fmt.Errorf("binary COPY row of %d fields, want 3", fields)
		}
		// 2 (count) + 4+16 (uuid) + 4+n (text) + 4+1 (boolean)
		if off+2+4+16+4 > len(b) {
			break
		}
		if binary.BigEndian.Uint32(b[off+2:]) != 16 {
			return 0, errors.New("binary COPY: participant id is not 16 bytes")
		}
		n := int(int32(binary.BigEndian.Uint32(b[off+22:])))
		if n < 0 {
			return 0, errors.New("binary COPY: NULL entry number")
		}
		end := off + 26 + n + 5
		if end > len(b) {
			break
		}
		if binary.BigEndian.Uint32(b[off+26+n:]) != 1 {
			return 0, errors.New("binary COPY: visited is not a boolean")
		}
		d.set.Add(uuid.UUID(b[off+6:off+22]), b[off+26:off+26+n], b[end-1] == 1)
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
