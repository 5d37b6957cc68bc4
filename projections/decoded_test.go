package projections

import (
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
)

// Read models of one process share a message's decoding; one left far
// behind decodes for itself once capacity pushed the entry out.
func TestDecodeCacheSharesADecodeAndForgetsBeyondItsCapacity(t *testing.T) {
	t.Parallel()
	c := newDecodeCache(2, 2)
	msg := func() string {
		return kafka.ToMessage(eventstore.RecordedEvent{ID: uuid.New(), Type: "FutureEvent", Position: 1, Data: []byte(`{}`)}).UUID
	}
	ids := []string{msg(), msg(), msg(), msg()}
	get := func(id string) {
		t.Helper()
		m := kafka.ToMessage(eventstore.RecordedEvent{ID: uuid.MustParse(id), Type: "FutureEvent", Position: 1, Data: []byte(`{}`)})
		d, err := c.get(m)
		if err != nil || d.rec.ID.String() != id {
			t.Fatalf("get %s = %s, %v", id, d.rec.ID, err)
		}
	}
	for _, step := range []struct {
		id      string
		decodes int64
		entries int
	}{
		{ids[0], 1, 1}, // the first read model decodes
		{ids[0], 1, 0}, // the second takes it; both did: gone
		{ids[1], 2, 1},
		{ids[2], 3, 2},
		{ids[3], 4, 2}, // over capacity: ids[1] pushed out
		{ids[2], 4, 1}, // the second read model takes what is still held
		{ids[3], 4, 0},
		{ids[1], 5, 1}, // and decodes what was pushed out again
	} {
		get(step.id)
		if got := c.decodes.Load(); got != step.decodes {
			t.Fatalf("after %s: %d decodes, want %d", step.id, got, step.decodes)
		}
		if got := len(c.entries); got != step.entries {
			t.Fatalf("after %s: %d entries held, want %d", step.id, got, step.entries)
		}
	}
}
