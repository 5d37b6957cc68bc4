package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ReplayReader reads a settled prefix of the log for a rebuild: a plain
// ordered scan of the events table. The Tail reads the same rows
// gap-safely but decodes every column and every event's metadata; that
// alone tops out near 70,000 events/s, below what a rebuild needs. Below a
// settled head there is no gap to be careful about, so the scan is as
// safe. Events come without ID, stream, schema version or metadata.
//
// A ReplayReader holds a connection; it is not safe for concurrent use.
type ReplayReader struct {
	conn *pgxpool.Conn
	keys map[string]string // partition keys interned
}

// NewReplayReader returns a reader on a connection of its own; Close it.
func (s *Store) NewReplayReader(ctx context.Context) (*ReplayReader, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay reader: %w", err)
	}
	return &ReplayReader{conn: conn, keys: map[string]string{}}, nil
}

// Close releases the reader's connection.
func (r *ReplayReader) Close() { r.conn.Release() }

// SettledHead returns the store's head once every position up to it is
// settled: committed, or rolled back for good. It uses the Tail's rule —
// positions at or below a head seen in a snapshot are settled once every
// transaction that held an xid then has ended — but asks it of this
// database's transactions only: xids are the cluster's, and only a session
// of this database can append to its events. The cluster-wide oldest xid
// would make a rebuild wait on any long transaction of another database on
// the same server (a report, another service's batch), polling all the
// while. waiting, when set, is told the oldest xid waited for, about once
// a second.
func (r *ReplayReader) SettledHead(ctx context.Context, waiting func(oldestXid string)) (int64, error) {
	var head, bound int64
	if err := r.conn.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head); err != nil {
		return 0, fmt.Errorf("store head: %w", err)
	}
	if err := r.conn.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&bound); err != nil {
		return 0, fmt.Errorf("store head: %w", err)
	}
	wait := time.Millisecond
	for start := time.Now(); ; {
		var oldest string
		err := r.conn.QueryRow(ctx, sqlOldestLocalXid, bound).Scan(&oldest)
		if errors.Is(err, pgx.ErrNoRows) {
			return head, nil
		}
		if err != nil {
			return 0, fmt.Errorf("store head: %w", err)
		}
		if time.Since(start) > time.Second && waiting != nil {
			waiting(oldest)
			start = time.Now()
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// sqlOldestLocalXid is the oldest xid, assigned no later than the bound $1
// (an xid8), that a transaction of this database still holds: a session's
// own xid lock (pg_locks shows every session's, whatever the role; its
// database is in pg_stat_activity's datid, also shown to every role), or a
// prepared transaction; no row when there is none. Ages compare the 32-bit
// xids modulo wraparound, both from the same next xid.
const sqlOldestLocalXid = `SELECT x::text FROM (
	SELECT l.transactionid AS x FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
		AND a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
	UNION ALL
	SELECT transaction FROM pg_prepared_xacts WHERE database = current_database()) t
WHERE age(x) >= age(($1::bigint::text::xid8)::xid) ORDER BY age(x) DESC LIMIT 1`

const sqlReplayPage = `SELECT position, partition_key, type, data::text, recorded_at FROM events
WHERE position > $1 AND position <= $2 AND ($4::text[] IS NULL OR type = ANY($4)) ORDER BY position LIMIT $3`

// pgEpoch is PostgreSQL's timestamp epoch, in Unix microseconds.
const pgEpoch = 946_684_800 * 1_000_000

// Page reads up to limit events in (after, upTo], of those types when
// onlyTypes is set, in position order. Binary results are parsed here
// (pgx's Scan costs more than the parsing) and every event's data shares
// one buffer.
func (r *ReplayReader) Page(ctx context.Context, after, upTo int64, limit int, onlyTypes []string) ([]RecordedEvent, error) {
	params := [][]byte{strconv.AppendInt(nil, after, 10), strconv.AppendInt(nil, upTo, 10),
		strconv.AppendInt(nil, int64(limit), 10), nil}
	if len(onlyTypes) > 0 {
		params[3] = []byte("{" + strings.Join(onlyTypes, ",") + "}") // type names need no quoting
	}
	rr := r.conn.Conn().PgConn().ExecParams(ctx, sqlReplayPage, params, nil, nil, []int16{1, 1, 1, 1, 1})
	var (
		recs  = make([]RecordedEvent, 0, limit)
		arena []byte
		spans = make([]int, 0, limit) // data's end offsets in arena
	)
	for rr.NextRow() {
		v := rr.Values()
		if len(v) != 5 || len(v[0]) != 8 || len(v[4]) != 8 {
			rr.Close()
			return nil, fmt.Errorf("replay: unexpected row shape")
		}
		rec := RecordedEvent{Position: int64(binary.BigEndian.Uint64(v[0]))}
		key, ok := r.keys[string(v[1])]
		if !ok {
			key = string(v[1])
			r.keys[key] = key
		}
		rec.PartitionKey = key
		us := int64(binary.BigEndian.Uint64(v[4])) + pgEpoch
		rec.RecordedAt = time.Unix(us/1_000_000, (us%1_000_000)*1000)
		rec.Type = r.internType(v[2])
		if arena == nil {
			// Sized for a page of rows like the first (a draw's can be
			// megabytes: bounded): growing it by doubling copied each
			// page's data about twice over.
			arena = make([]byte, 0, min((len(v[3])+len(v[3])/8)*limit, 64<<20))
		}
		arena = append(arena, v[3]...)
		spans = append(spans, len(arena))
		recs = append(recs, rec)
	}
	if _, err := rr.Close(); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	from := 0
	for i := range recs {
		recs[i].Data = arena[from:spans[i]:spans[i]]
		from = spans[i]
	}
	return recs, nil
}

// internType shares one string per event type (with the partition keys).
func (r *ReplayReader) internType(b []byte) string {
	t, ok := r.keys[string(b)]
	if !ok {
		t = string(b)
		r.keys[t] = t
	}
	return t
}
