package eventstore_test

import (
	"context"
	"fmt"
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
