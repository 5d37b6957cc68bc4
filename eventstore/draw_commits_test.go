package eventstore_test

import (
	"encoding/json"
	"testing"

	"github.com/shopevents/participation/eventstore"
)

// PendingDrawCommits finds the commits whose stream has no WinnersDrawn
// after them, whatever else the store holds.
func TestPendingDrawCommits(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	event := func(typ, drawID string) eventstore.EventData {
		return eventstore.EventData{Type: typ, PartitionKey: "campaign", Data: json.RawMessage(`{"drawId":"` + drawID + `"}`)}
	}
	appendTo := func(stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) {
		t.Helper()
		if _, err := s.Append(ctx, stream, expected, events...); err != nil {
			t.Fatal(err)
		}
	}
	appendTo("draw-done", eventstore.NoStream, event("DrawCommitted", "done"), event("WinnersDrawn", "done")) // local: one transaction
	appendTo("draw-later", eventstore.NoStream, event("DrawCommitted", "later"))
	appendTo("draw-later", eventstore.Exactly(1), event("WinnersDrawn", "later")) // drand: completed afterwards
	appendTo("draw-pending", eventstore.NoStream, event("DrawCommitted", "pending"))
	appendTo("draw-v1", eventstore.NoStream, event("WinnersDrawn", "v1")) // a v1 draw: no commit
	appendTo("other", eventstore.NoStream, event("ParticipantRegistered", "x"))

	got, err := s.PendingDrawCommits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].StreamID != "draw-pending" || got[0].StreamVersion != 1 || got[0].Type != "DrawCommitted" {
		t.Fatalf("pending = %+v, want draw-pending's commit alone", got)
	}
}
