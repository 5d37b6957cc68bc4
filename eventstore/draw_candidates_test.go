package eventstore_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

// DrawCandidates reads exactly a partition's rows: a key with quotes and
// backslashes reads its own rows, a key that would escape a quoted literal
// reads none, and entry numbers of any form come back unchanged.
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
			ids, err := tx.ParticipantIDs(ctx, campaign, entryNumbers(t, set.Candidates()))
			if err != nil {
				return err
			}
			for entry, id := range ids {
				got[id] = entry
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

// entryNumbers are the entry numbers of a draw's read, which carries no
// participant ids (ParticipantIDs names them).
func entryNumbers(t *testing.T, candidates []domain.Candidate) []string {
	t.Helper()
	out := make([]string, len(candidates))
	for i, c := range candidates {
		if c.ParticipantID != uuid.Nil {
			t.Errorf("candidate %s read with its participant id", c.EntryNumber)
		}
		out[i] = c.EntryNumber
	}
	return out
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

// A read is split over two connections by entry number (below "H" and
// from it), the second in the first's exported snapshot; with no idle
// connection to take (a pool of one) it is one read. Both give every
// candidate of both halves, visits and erasures applied, canonical and
// other entry numbers alike, the halfway entry number and an empty one.
func TestDrawCandidatesSplitReadIsTheWholeRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Database(t)
	pool := func(conns int32) *pgxpool.Pool {
		t.Helper()
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns = conns
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	many := pool(8)
	if err := eventstore.Migrate(ctx, many); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(many)
	campaign := uuid.NewString()
	entries := []string{"AB23-CD45", "XY99-ZZ22", "legacy 7", "CD23-AB45", "ZZ22-XY99", "GH23-JK45", "H", "", "멀티바이트-1"}
	ids := make([]uuid.UUID, len(entries))
	for i := range ids {
		ids[i] = uuid.New()
	}
	var reqs []eventstore.AppendRequest
	for i, id := range ids {
		reqs = append(reqs, eventstore.AppendRequest{Stream: "participant-" + id.String(), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{registration(t, campaign, id, entries[i])}})
	}
	reqs = append(reqs,
		eventstore.AppendRequest{Stream: "visit-" + ids[3].String(), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{typed(t, "StoreVisitRecorded", campaign, ids[3])}},
		eventstore.AppendRequest{Stream: "visit-" + ids[6].String(), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{typed(t, "StoreVisitRecorded", campaign, ids[6])}},
		eventstore.AppendRequest{Stream: "erase-" + ids[4].String(), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{typed(t, "ParticipantErased", campaign, ids[4])}})
	if _, errs, err := store.AppendBatch(ctx, reqs); err != nil || errors.Join(errs...) != nil {
		t.Fatal(err, errs)
	}
	want := map[uuid.UUID]string{}
	for i, id := range ids {
		if i != 4 {
			want[id] = entries[i]
		}
	}
	for name, s := range map[string]*eventstore.Store{"split": store, "one_connection": eventstore.New(pool(1))} {
		got, visited := map[uuid.UUID]string{}, map[uuid.UUID]bool{}
		err := s.Exclusive(ctx, "fence", func(ctx context.Context, tx *eventstore.Tx) error {
			set, _, err := tx.DrawCandidates(ctx, campaign)
			if err != nil {
				return err
			}
			named, err := tx.ParticipantIDs(ctx, campaign, entryNumbers(t, set.Candidates()))
			if err != nil {
				return err
			}
			for _, c := range set.Candidates() {
				got[named[c.EntryNumber]], visited[named[c.EntryNumber]] = c.EntryNumber, c.Visited
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: candidates %v, want %v", name, got, want)
		}
		visitors := 0
		for _, v := range visited {
			if v {
				visitors++
			}
		}
		if len(visited) != len(want) || !visited[ids[3]] || !visited[ids[6]] || visitors != 2 {
			t.Errorf("%s: visited %v, want only %s and %s", name, visited, ids[3], ids[6])
		}
	}
}

// An entry number holding the joined read's separator fails the read
// rather than splitting into two candidates (no draw accepts such a leaf).
func TestDrawCandidatesRefusesAnEntryNumberWithAComma(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	campaign := uuid.NewString()
	for _, entry := range []string{"AB23-CD45", "legacy,7"} {
		id := uuid.New()
		if _, err := store.Append(ctx, "participant-"+id.String(), eventstore.NoStream, registration(t, campaign, id, entry)); err != nil {
			t.Fatal(err)
		}
	}
	err := store.Exclusive(ctx, "fence", func(ctx context.Context, tx *eventstore.Tx) error {
		set, _, err := tx.DrawCandidates(ctx, campaign)
		if err == nil {
			t.Errorf("read %+v, want an error", set.Candidates())
		}
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "comma") {
		t.Errorf("error %v, want one naming the comma", err)
	}
}
