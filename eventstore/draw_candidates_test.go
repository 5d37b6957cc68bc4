package eventstore_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// DrawCandidates reads a partition's rows through a binary COPY whose key
// is a quoted literal: a key with quotes and backslashes reads its own
// rows, a key written to escape the literal reads none, and entry numbers
// of any form come back unchanged.
func TestDrawCandidatesReadsExactlyItsPartition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	odd := `it's a \campaign` + uuid.NewString()
	plain := uuid.NewString()
	want := map[string]map[uuid.UUID]string{odd: {}, plain: {}}
	var reqs []eventstore.AppendRequest
	for i, entry := range []string{"AB23-CD45", "legacy 7", "XY99-ZZ22", "멀티바이트-1"} {
		for _, campaign := range []string{odd, plain} {
			id := uuid.New()
			want[campaign][id] = entry + campaign[:1]
			if i%2 == 0 {
				want[campaign][id] = entry
			}
			reqs = append(reqs, eventstore.AppendRequest{Stream: "participant-" + id.String(), Expected: eventstore.NoStream,
				Events: []eventstore.EventData{registration(t, campaign, id, want[campaign][id])}})
		}
	}
	if _, errs, err := store.AppendBatch(ctx, reqs); err != nil || errors.Join(errs...) != nil {
		t.Fatal(err, errs)
	}
	read := func(campaign string) map[uuid.UUID]string {
		t.Helper()
		got := map[uuid.UUID]string{}
		err := store.Exclusive(ctx, "fence", func(ctx context.Context, tx *eventstore.Tx) error {
			set, _, err := tx.DrawCandidates(ctx, campaign)
			if err != nil {
				return err
			}
			for _, c := range set.Candidates() {
				got[c.ParticipantID] = c.EntryNumber
			}
			if len(got) != set.Len() {
				t.Errorf("%q: %d distinct candidates among %d", campaign, len(got), set.Len())
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%q: %v", campaign, err)
		}
		return got
	}
	for _, campaign := range []string{odd, plain} {
		if got := read(campaign); !maps.Equal(got, want[campaign]) {
			t.Errorf("%q: candidates %v, want %v", campaign, got, want[campaign])
		}
	}
	for _, escape := range []string{`x' OR true OR '`, `x\' OR true --`, ""} {
		if got := read(escape); len(got) != 0 {
			t.Errorf("%q read %d candidates, want none", escape, len(got))
		}
	}
}

// The cut-off is the partition's highest position, whatever the other
// partitions hold after it: keys that extend it or sort next to it, and
// later events of every kind; a partition without events has 0.
func TestDrawCutoffIsThePartitionsHighestPosition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	c := uuid.NewString()
	want := map[string]int64{c: 0, c + "1": 0, c[:35]: 0, "none-" + c: 0}
	for round := range 3 {
		for _, p := range []string{c, c + "1", c[:35]} {
			if round == 2 && p == c {
				continue // c's last events come before the others'
			}
			ev := registration(t, p, uuid.New(), []string{"AB23-CD45", "AB23-CD46", "AB23-CD47"}[round]) // an entry number once per campaign
			if round == 1 {
				ev = typed(t, "CampaignNoted", p, uuid.New())
			}
			res, err := store.Append(ctx, "s-"+uuid.NewString(), eventstore.NoStream, ev)
			if err != nil {
				t.Fatal(err)
			}
			want[p] = res.Positions[0]
		}
	}
	for p, w := range want {
		err := store.Exclusive(ctx, "fence", func(ctx context.Context, tx *eventstore.Tx) error {
			_, cutoff, err := tx.DrawCandidates(ctx, p)
			if err == nil && cutoff != w {
				t.Errorf("%q: cut-off %d, want %d", p, cutoff, w)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
