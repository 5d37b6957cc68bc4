package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/projections"
)

// A deep page costs what the first does and agrees with the full list.
func TestPaginationDeepPagesAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const n = 1050
	a := e.seedCampaign(t, n, seedStart, 0)
	var winners []int
	for i := 0; i < n; i += 37 {
		winners = append(winners, i)
	}
	e.drawWinners(t, a, winners...)
	participants, err := projections.NewProjector(projections.ParticipantsProjection, e.pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, []*projections.Projector{participants}, e.allEvents(t))
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	each := everyParticipant(t, q, a.id)
	if len(each) != n {
		t.Fatalf("EachParticipant gave %d, want %d", len(each), n)
	}

	for _, tc := range []struct {
		name   string
		filter projections.ParticipantFilter
	}{
		{"all", projections.ParticipantFilter{}},
		{"instagram", projections.ParticipantFilter{EntryPath: "INSTAGRAM"}},
		{"winners", projections.ParticipantFilter{Winner: ptr(true)}},
		{"not_winners", projections.ParticipantFilter{Winner: ptr(false)}},
		{"kakao_not_winners", projections.ParticipantFilter{EntryPath: "KAKAO", Winner: ptr(false)}},
		{"kakao_winners", projections.ParticipantFilter{EntryPath: "KAKAO", Winner: ptr(true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			want := where(each, func(r projections.ParticipantRow) bool {
				return (f.EntryPath == "" || r.EntryPath == f.EntryPath) && (f.Winner == nil || r.Winner == *f.Winner)
			})
			lastPage := (len(want) + 99) / 100
			for _, page := range []int{1, 2, lastPage - 1, lastPage, lastPage + 1, 1 << 40} {
				if page < 1 {
					continue
				}
				f.Page, f.Size = page, 100
				got, err := q.Participants(ctx, a.id, f)
				if err != nil {
					t.Fatal(err)
				}
				if got.TotalCount != int64(len(want)) {
					t.Errorf("page %d: totalCount = %d, want %d", page, got.TotalCount, len(want))
				}
				from, to := min((page-1)*100, len(want)), min(page*100, len(want))
				if page == 1<<40 {
					from, to = len(want), len(want)
				}
				if diff := cmp.Diff(want[from:to], got.Items, cmp.Comparer(time.Time.Equal)); diff != "" {
					t.Errorf("page %d (-want +got):\n%s", page, diff)
				}
			}
		})
	}

	t.Run("unknown_campaign_is_an_empty_page", func(t *testing.T) {
		got, err := q.Participants(ctx, uuid.New(), projections.ParticipantFilter{Page: 1, Size: 20})
		if err != nil || got.TotalCount != 0 || got.Items == nil || len(got.Items) != 0 {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	t.Run("each_participant_stops_at_the_first_error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := q.EachParticipant(ctx, a.id, func(projections.ParticipantRow) error {
			if calls++; calls == 1001 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 1001 {
			t.Errorf("err = %v after %d calls; want stop after 1001", err, calls)
		}
	})
}

func TestSubscribeAnalyticsSignalsChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.seedCampaign(t, 0, seedStart, 0)
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	analytics, err := projections.NewProjector(projections.AnalyticsProjection, e.pool, nil)
	if err != nil {
		t.Fatal(err)
	}

	subCtx, cancelCtx := context.WithCancel(ctx)
	defer cancelCtx()
	changes, cancel := q.SubscribeAnalytics(subCtx, a.id)
	defer cancel()
	applied := 0
	for _, want := range []int64{1, 6} {
		e.register(t, a, int(want)-applied, seedStart)
		events := e.allEvents(t)
		for _, ev := range events {
			if err := analytics.Apply(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		applied = int(want)
		// a signal comes after the change; earlier ones may come too
		deadline := time.After(60 * time.Second) // a bound against hanging, not a timing
		for {
			select {
			case <-changes:
			case <-deadline:
				t.Fatalf("no signal showing %d participants", want)
			}
			got, err := q.Analytics(ctx, a.id)
			if err != nil {
				t.Fatal(err)
			}
			if got.TotalParticipants == want {
				break
			}
		}
	}

	// After the context ends nothing more arrives. A second subscriber is
	// the barrier: the single listener signals every subscriber of a
	// notification at once.
	cancelCtx()
	observe, observed := q.SubscribeAnalytics(ctx, a.id)
	defer observed()
	total := int64(applied)
	changeAndObserve := func() {
		t.Helper()
		e.register(t, a, 1, seedStart)
		total++
		for _, ev := range e.allEvents(t) {
			if err := analytics.Apply(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.After(60 * time.Second) // a bound against hanging, not a timing
		for {
			select {
			case <-observe:
			case <-deadline:
				t.Fatalf("no signal showing %d participants", total)
			}
			if got, err := q.Analytics(ctx, a.id); err != nil {
				t.Fatal(err)
			} else if got.TotalParticipants == total {
				return
			}
		}
	}
	changeAndObserve()
	for len(changes) > 0 {
		<-changes // signals sent before the cancellation took effect
	}
	changeAndObserve()
	select {
	case <-changes:
		t.Error("a cancelled subscription was signalled")
	default:
	}
}
