package eventstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// SubjectKeySnapshot is every subject's wrapped data key as one scan of
// pii_keys read them. A rebuild opens every registration of the store:
// looked up a page at a time, the keys cost PostgreSQL an index probe per
// participant, about a third of its share of the rebuild; one sequential
// scan costs a fraction of that.
//
// It is as old as its scan: a key deleted since (an erasure) is still in
// it. Use it for events of a head settled before the scan, whose erasures
// come later in the log and are applied after them, as a live projector
// that had reached that head would see them.
type SubjectKeySnapshot struct {
	// keys point into chunks by number: a map without pointers is not
	// scanned by the GC, which a rebuild's heap of short-lived values
	// runs often.
	keys   map[uuid.UUID]keyRef
	chunks [][]byte
	store  *Store
}

type keyRef struct{ chunk, from, to uint32 }

// SnapshotSubjectKeys reads every subject's wrapped key in one scan.
func (s *Store) SnapshotSubjectKeys(ctx context.Context) (*SubjectKeySnapshot, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("subject keys snapshot: %w", err)
	}
	defer conn.Release()
	// Sized from the planner's estimate: growing a map of a million
	// entries step by step cost about as much as filling it.
	var estimate int64
	if err := conn.QueryRow(ctx, `SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'pii_keys'::regclass`).Scan(&estimate); err != nil {
		return nil, fmt.Errorf("subject keys snapshot: %w", err)
	}
	snap := &SubjectKeySnapshot{keys: make(map[uuid.UUID]keyRef, min(estimate, 16<<20)), store: s}
	// Binary results parsed here, the keys copied into shared chunks: a
	// million rows scanned through pgx and allocated one by one cost more
	// than the scan.
	rr := conn.Conn().PgConn().ExecParams(ctx, `SELECT participant_id, wrapped FROM pii_keys`, nil, nil, nil, []int16{1, 1})
	for rr.NextRow() {
		v := rr.Values()
		if len(v) != 2 || len(v[0]) != 16 {
			rr.Close()
			return nil, fmt.Errorf("subject keys snapshot: unexpected row shape")
		}
		n := len(snap.chunks) - 1
		if n < 0 || cap(snap.chunks[n])-len(snap.chunks[n]) < len(v[1]) {
			snap.chunks = append(snap.chunks, make([]byte, 0, max(1<<20, len(v[1]))))
			n++
		}
		from := len(snap.chunks[n])
		snap.chunks[n] = append(snap.chunks[n], v[1]...)
		snap.keys[uuid.UUID(v[0])] = keyRef{chunk: uint32(n), from: uint32(from), to: uint32(len(snap.chunks[n]))}
	}
	if _, err := rr.Close(); err != nil {
		return nil, fmt.Errorf("subject keys snapshot: %w", err)
	}
	return snap, nil
}

// Len is the number of keys in the snapshot.
func (k *SubjectKeySnapshot) Len() int { return len(k.keys) }

// SubjectKeys answers from the snapshot; subjects it lacks (erased before
// it, or keyed after it) are looked up in the store, in one query.
func (k *SubjectKeySnapshot) SubjectKeys(ctx context.Context, subjects []uuid.UUID) (map[uuid.UUID][]byte, error) {
	out := make(map[uuid.UUID][]byte, len(subjects))
	var missing []uuid.UUID
	for _, id := range subjects {
		if ref, ok := k.keys[id]; ok {
			out[id] = k.chunks[ref.chunk][ref.from:ref.to:ref.to]
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	found, err := k.store.SubjectKeys(ctx, missing)
	if err != nil {
		return nil, err
	}
	for id, key := range found {
		out[id] = key
	}
	return out, nil
}
