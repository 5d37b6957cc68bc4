package eventstore_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// The leaves' candidates are those at the cut-off, in leaf order: a visit
// or an erasure after it changes nothing, one before it counts; a
// registration after it (another campaign's, here) is not one.
func TestEachLeafCandidateIsTheCandidatesAtTheCutoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	campaign, other := uuid.NewString(), uuid.NewString()
	ids := map[string]uuid.UUID{}
	appendOne := func(stream string, e eventstore.EventData) int64 {
		t.Helper()
		res, err := store.Append(ctx, stream, eventstore.Any, e)
		if err != nil {
			t.Fatal(err)
		}
		return res.Positions[len(res.Positions)-1]
	}
	for _, entry := range []string{"Z", "a", "B", "b", "C", "é"} {
		ids[entry] = uuid.New()
		appendOne("participant-"+ids[entry].String(), registration(t, campaign, ids[entry], entry))
	}
	appendOne("visit-B", typed(t, "StoreVisitRecorded", campaign, ids["B"]))
	appendOne("erase-C", typed(t, "ParticipantErased", campaign, ids["C"]))
	cutoff := appendOne("visit-a", typed(t, "StoreVisitRecorded", campaign, ids["a"]))
	// after the cut-off
	appendOne("visit-Z", typed(t, "StoreVisitRecorded", campaign, ids["Z"]))
	appendOne("erase-b", typed(t, "ParticipantErased", campaign, ids["b"]))
	appendOne("participant-x", registration(t, other, uuid.New(), "A"))

	var got []string
	err := store.EachLeafCandidate(ctx, campaign, cutoff, func(entry []byte, visited bool) error {
		got = append(got, fmt.Sprintf("%s:%v", entry, visited))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"B:true", "Z:false", "a:true", "b:false", "é:false"}
	if !slices.Equal(got, want) {
		t.Errorf("leaf candidates %v, want %v", got, want)
	}
	// and today's candidates differ: Z visited, b erased
	got = nil
	if err := store.EachLeafCandidate(ctx, campaign, 1<<62, func(entry []byte, visited bool) error {
		got = append(got, fmt.Sprintf("%s:%v", entry, visited))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"B:true", "Z:true", "a:true", "é:false"}; !slices.Equal(got, want) {
		t.Errorf("candidates now %v, want %v", got, want)
	}
}

// A million candidates stream through EachLeafCandidate in bounded memory:
// the heap in use while they pass stays within a loose bound far below what
// holding them would take (a million entry numbers and flags). Measured,
// not timed.
func TestEachLeafCandidateStreamsAMillionInBoundedMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	campaign := uuid.NewString()
	const n = 1_000_000
	if _, err := eventstore.PoolOf(store).Exec(ctx, `INSERT INTO draw_candidates
		(event_id, participant_id, entry_number, visited, last_position, registered_position, visited_position)
		SELECT $1, gen_random_uuid(), lpad(to_hex(i), 8, '0'), i % 3 = 0, i, i, CASE WHEN i % 3 = 0 THEN i END
		FROM generate_series(1, $2) AS i`, campaign, n); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	count, visited := 0, 0
	var last []byte
	err := store.EachLeafCandidate(ctx, campaign, n, func(entry []byte, v bool) error {
		if last != nil && bytes.Compare(entry, last) <= 0 {
			return fmt.Errorf("leaf %d: %q after %q", count, entry, last)
		}
		last = append(last[:0], entry...)
		count++
		if v {
			visited++
		}
		if count%50_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n || visited != n/3 {
		t.Fatalf("%d leaves, %d visited; want %d, %d", count, visited, n, n/3)
	}
	growth := int64(peak) - int64(base)
	t.Logf("heap in use grew by %d KiB over %d leaves", growth>>10, n)
	if growth > 16<<20 {
		t.Errorf("heap in use grew by %d MiB while streaming, want under 16 MiB", growth>>20)
	}
}
