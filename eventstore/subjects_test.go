package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

func registration(t *testing.T, campaign string, participant uuid.UUID, entry string) eventstore.EventData {
	t.Helper()
	data, err := json.Marshal(map[string]any{"participantId": participant, "eventId": campaign, "entryNumber": entry, "pii": "c2VhbGVk"})
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{Type: "ParticipantRegistered", SchemaVersion: 2, PartitionKey: campaign, Data: data}
}

func typed(t *testing.T, eventType, campaign string, participant any) eventstore.EventData {
	t.Helper()
	data, _ := json.Marshal(map[string]any{"participantId": participant, "eventId": campaign})
	return eventstore.EventData{Type: eventType, SchemaVersion: 1, PartitionKey: campaign, Data: data}
}

// A subject key is stored exactly when its append commits, on every path:
// a single append, the batch's fast path and its careful path.
func TestSubjectKeysCommitWithTheirAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	campaign := uuid.NewString()
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	key := func(id uuid.UUID) *eventstore.SubjectKey {
		return &eventstore.SubjectKey{Subject: id, Wrapped: []byte("wrapped-" + id.String()[:4])}
	}
	req := func(stream string, id uuid.UUID, entry string) eventstore.AppendRequest {
		return eventstore.AppendRequest{Stream: stream, Expected: eventstore.NoStream,
			Events: []eventstore.EventData{registration(t, campaign, id, entry)}, SubjectKey: key(id)}
	}
	if _, err := store.AppendWith(ctx, req("participant-a", a, "A")); err != nil {
		t.Fatal(err)
	}
	// The same stream again: refused, and its key is not stored.
	if _, err := store.AppendWith(ctx, req("participant-a", b, "B")); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("second append = %v, want ErrWrongExpectedVersion", err)
	}
	// A batch with a conflict takes the careful path: the loser's key stays out.
	_, errs, err := store.AppendBatch(ctx, []eventstore.AppendRequest{req("participant-c", c, "C"), req("participant-a", b, "B2")})
	if err != nil || errs[0] != nil || !errors.Is(errs[1], eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("batch = %v %v, want the first in, the second refused", errs, err)
	}
	keys, err := store.SubjectKeys(ctx, []uuid.UUID{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || string(keys[a]) != string(key(a).Wrapped) || keys[c] == nil || keys[b] != nil {
		t.Fatalf("keys = %q, want a's and c's only", keys)
	}
	// Shredding commits with its event, and only then.
	shred := eventstore.AppendRequest{Stream: "participant-c", Expected: eventstore.Exactly(5),
		Events: []eventstore.EventData{typed(t, "ParticipantErased", campaign, c)}, Shred: c}
	if _, err := store.AppendWith(ctx, shred); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("shred at a wrong version = %v", err)
	}
	if keys, _ := store.SubjectKeys(ctx, []uuid.UUID{c}); keys[c] == nil {
		t.Fatal("a refused shred deleted the key")
	}
	shred.Expected = eventstore.Exactly(1)
	if _, err := store.AppendWith(ctx, shred); err != nil {
		t.Fatal(err)
	}
	if keys, _ := store.SubjectKeys(ctx, []uuid.UUID{c}); keys[c] != nil {
		t.Fatal("the shred left the key")
	}
}

// draw_candidates follows the events in their own transactions.
func TestCandidatesFollowTheEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	campaign := uuid.NewString()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var reqs []eventstore.AppendRequest
	for i, id := range ids {
		reqs = append(reqs, eventstore.AppendRequest{Stream: "participant-" + id.String(), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{registration(t, campaign, id, string(rune('A'+i)))}})
	}
	if _, errs, err := store.AppendBatch(ctx, reqs); err != nil || errors.Join(errs...) != nil {
		t.Fatal(err, errs)
	}
	if _, err := store.Append(ctx, "participant-"+ids[0].String(), eventstore.Exactly(1), typed(t, "StoreVisitRecorded", campaign, ids[0])); err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, "participant-"+ids[1].String(), eventstore.Exactly(1), typed(t, "ParticipantErased", campaign, ids[1]))
	if err != nil {
		t.Fatal(err)
	}
	// Malformed data is stored all the same and makes no candidate.
	odd, err := store.Append(ctx, "odd", eventstore.NoStream, typed(t, "ParticipantRegistered", campaign, "5"))
	if err != nil {
		t.Fatalf("a malformed registration failed the append: %v", err)
	}
	err = store.Exclusive(ctx, "fence", func(ctx context.Context, tx *eventstore.Tx) error {
		set, cutoff, err := tx.DrawCandidates(ctx, campaign)
		if err != nil {
			return err
		}
		cands := set.Candidates()
		named, err := tx.ParticipantIDs(ctx, campaign, entryNumbers(t, cands))
		if err != nil {
			return err
		}
		got := map[uuid.UUID]bool{}
		for _, c := range cands {
			got[named[c.EntryNumber]] = c.Visited
		}
		if len(cands) != 2 || !got[ids[0]] || got[ids[2]] || cutoff != odd.Positions[0] {
			t.Errorf("draw candidates %+v, cut-off %d; want %s (visited) and %s, cut-off %d (the partition's last)",
				cands, cutoff, ids[0], ids[2], odd.Positions[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := store.Candidates(ctx, campaign)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uuid.UUID]eventstore.Candidate{}
	var cutoff int64
	for _, r := range rows {
		got[r.ParticipantID] = r
		cutoff = max(cutoff, r.LastPosition)
	}
	tests := []struct {
		name            string
		id              uuid.UUID
		visited, erased bool
	}{
		{"visitor", ids[0], true, false},
		{"erased", ids[1], false, true},
		{"registered_only", ids[2], false, false},
	}
	for _, tt := range tests {
		if r, ok := got[tt.id]; !ok || r.Visited != tt.visited || r.Erased != tt.erased {
			t.Errorf("%s: row %+v (found %t), want visited %t erased %t", tt.name, r, ok, tt.visited, tt.erased)
		}
	}
	if len(rows) != 3 || cutoff != res.Positions[0] {
		t.Errorf("%d rows, cut-off %d; want 3, the erasure's position %d", len(rows), cutoff, res.Positions[0])
	}
}
