package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/shopevents/participation/internal/backoff"
)

// Tail reads the global log in position order, gap-safely.
//
// Positions come from a sequence, so a transaction can hold a lower position
// than one that has already committed. When the tail sees a hole, it stops
// before it until the hole is either filled or known to stay empty (its
// transaction rolled back). A hole below a position P that was visible in a
// snapshot S is known to stay empty once every transaction that had an xid
// when S was taken has ended. That holds because an append claims its stream
// row (and so its xid) before it draws positions. The bound is an xid taken
// after S (pg_current_xact_id), not S's xmax: PostgreSQL's xmax is the newest
// completed xid plus one, so a running transaction that took its xid after
// the last completed one is below no snapshot's xmin or xmax.
//
// A Tail is not safe for concurrent use.
type Tail struct {
	store *Store
	after int64
	// watch is the open question about holes at or below watch.upTo.
	watch *holeWatch
}

type holeWatch struct {
	upTo int64
	// bound is an xid assigned after the snapshot that showed the hole (0
	// until it is fetched): the hole is settled once the oldest running xid
	// is above it.
	bound int64
}

// NewTail starts a tail after position (0 reads from the beginning).
func (s *Store) NewTail(after int64) *Tail { return &Tail{store: s, after: after} }

// Position is the position of the last event returned.
func (t *Tail) Position() int64 { return t.after }

// Reset moves the tail so that the next read starts after position.
func (t *Tail) Reset(after int64) { t.after, t.watch = after, nil }

const sqlTail = `SELECT s.xmin, e.position, e.event_id, e.stream_id, e.stream_version, e.partition_key,
	e.type, e.schema_version, e.data, e.metadata, e.recorded_at
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) s
LEFT JOIN LATERAL (SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT $2) e ON true`

// Next returns up to limit events after the tail's position, in position
// order, never past a hole that an in-flight transaction may still fill.
// An empty answer with waiting=true means events exist past a hole that is
// not settled yet; ask again shortly.
func (t *Tail) Next(ctx context.Context, limit int) (events []RecordedEvent, waiting bool, err error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.store.pool.Query(ctx, sqlTail, t.after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("tail: %w", err)
	}
	defer rows.Close()

	var (
		xmin       int64
		candidates []RecordedEvent
	)
	for rows.Next() {
		var (
			e        RecordedEvent
			pos      *int64
			data     []byte // not json.RawMessage: pgx would validate it with json.Unmarshal
			meta     []byte
			sv       *int32
			recorded *time.Time
		)
		var stream, pkey, typ *string
		var version *int64
		var id pgtype.UUID // binary; a uuid.UUID scans through a string (its sql.Scanner)
		if err := rows.Scan(&xmin, &pos, &id, &stream, &version, &pkey, &typ, &sv, &data, &meta, &recorded); err != nil {
			return nil, false, fmt.Errorf("tail scan: %w", err)
		}
		if pos == nil { // the LEFT JOIN's empty row: nothing past the tail
			break
		}
		e.ID, e.Position, e.StreamID, e.StreamVersion, e.PartitionKey, e.Type = id.Bytes, *pos, *stream, *version, *pkey, *typ
		e.SchemaVersion, e.RecordedAt, e.Data = int(*sv), *recorded, data
		if err := unmarshalMeta(meta, &e.Metadata); err != nil {
			return nil, false, err
		}
		candidates = append(candidates, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("tail: %w", err)
	}

	settled := int64(0)
	if t.watch != nil && t.watch.bound > 0 && xmin > t.watch.bound {
		settled = t.watch.upTo
		t.watch = nil
	}
	out := t.accept(candidates, settled)
	if t.watch != nil && t.watch.bound == 0 {
		// One xid per hole watched, not per poll.
		if err := t.store.pool.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&t.watch.bound); err != nil {
			t.watch = nil // asked again at the next read
			return out, false, fmt.Errorf("tail: xid bound: %w", err)
		}
	}
	return out, len(out) == 0 && len(candidates) > 0, nil
}

// accept takes the contiguous run of candidates; holes at or below settled
// are known to stay empty. At the first open hole it sets a watch covering
// everything seen in this snapshot (its bound still to fetch) and stops.
func (t *Tail) accept(candidates []RecordedEvent, settled int64) []RecordedEvent {
	n := 0
	for _, e := range candidates {
		if e.Position != t.after+1 && e.Position > settled {
			if t.watch == nil || t.watch.upTo < e.Position {
				t.watch = &holeWatch{upTo: candidates[len(candidates)-1].Position}
			}
			break
		}
		t.after = e.Position
		n++
	}
	return candidates[:n]
}

// ReadAll returns up to limit events after position, in position order,
// gap-safely: when a hole follows position it waits until the hole is
// filled or settled, then answers.
func (s *Store) ReadAll(ctx context.Context, after int64, limit int) ([]RecordedEvent, error) {
	tail := s.NewTail(after)
	for {
		events, waiting, err := tail.Next(ctx, limit)
		if err != nil || !waiting {
			return events, err
		}
		if !backoff.Sleep(ctx, 2*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
}
