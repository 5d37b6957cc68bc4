package eventstore_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// A snapshot holds every key of its scan, even one shredded since (it is
// for events of a head settled before the scan, whose erasures come
// later), and finds a key stored after it in the store.
func TestSubjectKeySnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	campaign := uuid.NewString()
	register := func(id uuid.UUID) {
		t.Helper()
		if _, err := store.AppendWith(ctx, eventstore.AppendRequest{Stream: "participant-" + id.String(), Expected: eventstore.NoStream,
			Events:     []eventstore.EventData{registration(t, campaign, id, id.String()[:6])},
			SubjectKey: &eventstore.SubjectKey{Subject: id, Wrapped: []byte("wrapped-" + id.String())}}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []uuid.UUID
	for range 300 {
		id := uuid.New()
		register(id)
		ids = append(ids, id)
	}
	snap, err := store.SnapshotSubjectKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Len() != len(ids) {
		t.Fatalf("snapshot holds %d keys, want %d", snap.Len(), len(ids))
	}
	shredded := ids[7]
	if _, err := store.AppendWith(ctx, eventstore.AppendRequest{Stream: "participant-" + shredded.String(), Expected: eventstore.Exactly(1),
		Events: []eventstore.EventData{typed(t, "ParticipantErased", campaign, shredded)}, Shred: shredded}); err != nil {
		t.Fatal(err)
	}
	later, never := uuid.New(), uuid.New()
	register(later)
	keys, err := snap.SubjectKeys(ctx, append(append([]uuid.UUID{later, never}, ids...), shredded))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range append(ids, later) {
		if got, want := string(keys[id]), "wrapped-"+id.String(); got != want {
			t.Fatalf("key of %s = %q, want %q", id, got, want)
		}
	}
	if _, ok := keys[never]; ok || len(keys) != len(ids)+1 {
		t.Fatalf("%d keys answered, want %d (none for a subject never keyed)", len(keys), len(ids)+1)
	}
	if snap.Len() != len(ids) {
		t.Fatal("answering changed the snapshot")
	}
}
