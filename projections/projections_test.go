package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/projections"
)

// 14:30 UTC is 23:30 in Seoul: registrations 7 minutes apart cross the
// Seoul midnight, which a UTC bucketing would put on the wrong day.
var seedStart = time.Date(2025, 3, 1, 14, 30, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// allPages reads every page of a filter with the given size.
func allPages(t *testing.T, q *projections.Queries, eventID uuid.UUID, f projections.ParticipantFilter) ([]projections.ParticipantRow, int64) {
	t.Helper()
	var out []projections.ParticipantRow
	var total int64 = -1
	for page := 1; ; page++ {
		f.Page = page
		got, err := q.Participants(context.Background(), eventID, f)
		if err != nil {
			t.Fatal(err)
		}
		if total >= 0 && got.TotalCount != total {
			t.Fatalf("totalCount changed between pages: %d then %d", total, got.TotalCount)
		}
		total = got.TotalCount
		if len(got.Items) > f.Size {
			t.Fatalf("page %d has %d items, size %d", page, len(got.Items), f.Size)
		}
		out = append(out, got.Items...)
		if len(got.Items) < f.Size {
			return out, total
		}
	}
}

func everyParticipant(t *testing.T, q *projections.Queries, eventID uuid.UUID) []projections.ParticipantRow {
	t.Helper()
	var out []projections.ParticipantRow
	if err := q.EachParticipant(context.Background(), eventID, func(r projections.ParticipantRow) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func where(rows []projections.ParticipantRow, keep func(projections.ParticipantRow) bool) []projections.ParticipantRow {
	out := []projections.ParticipantRow{}
	for _, r := range rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func TestProjectedReadModelsAgreeWithEachOtherAndTheEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const n = 250
	a := e.seedCampaign(t, n, seedStart, 7)
	b := e.seedCampaign(t, 30, seedStart, 0) // another campaign, which must not leak into a's figures
	e.drawWinners(t, a, 3, 17, 42, 100, 249)
	applyAll(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)

	each := everyParticipant(t, q, a.id)
	if len(each) != n {
		t.Fatalf("EachParticipant gave %d rows, want %d", len(each), n)
	}
	winners := map[uuid.UUID]bool{}
	for _, w := range a.draw.Winners {
		winners[w.ParticipantID] = true
	}
	// newest first, every field as registered, masked
	for i, row := range each {
		reg := a.regs[n-1-i]
		want := projections.ParticipantRow{
			ParticipantID: reg.ParticipantID, EntryNumber: reg.EntryNumber,
			Name: domain.MaskName(reg.Name), Phone: domain.MaskPhone(reg.Phone), EntryPath: string(reg.EntryPath),
			ParticipatedAt: reg.Timestamp, StoreVisited: a.visited[reg.ParticipantID], Winner: winners[reg.ParticipantID],
		}
		if diff := cmp.Diff(want, row, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Fatalf("row %d (-want +got):\n%s", i, diff)
		}
	}

	t.Run("first_page_is_newest_first_with_the_total", func(t *testing.T) {
		page, err := q.Participants(ctx, a.id, projections.ParticipantFilter{Page: 1, Size: 20})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != n {
			t.Errorf("totalCount = %d, want %d", page.TotalCount, n)
		}
		if diff := cmp.Diff(each[:20], page.Items); diff != "" {
			t.Errorf("page 1 (-each +page):\n%s", diff)
		}
	})

	filters := []projections.ParticipantFilter{{}, {Winner: ptr(true)}, {Winner: ptr(false)}}
	for _, p := range domain.EntryPaths {
		filters = append(filters,
			projections.ParticipantFilter{EntryPath: string(p)},
			projections.ParticipantFilter{EntryPath: string(p), Winner: ptr(true)},
			projections.ParticipantFilter{EntryPath: string(p), Winner: ptr(false)})
	}
	for _, f := range filters {
		name := fmt.Sprintf("path_%q_winner_%v", f.EntryPath, f.Winner)
		if f.Winner != nil {
			name = fmt.Sprintf("path_%q_winner_%v", f.EntryPath, *f.Winner)
		}
		t.Run(name, func(t *testing.T) {
			want := where(each, func(r projections.ParticipantRow) bool {
				return (f.EntryPath == "" || r.EntryPath == f.EntryPath) && (f.Winner == nil || r.Winner == *f.Winner)
			})
			for _, size := range []int{1, 7, 100} {
				f.Size = size
				got, total := allPages(t, q, a.id, f)
				if total != int64(len(want)) {
					t.Errorf("size %d: totalCount = %d, want %d", size, total, len(want))
				}
				if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("size %d: pages (-each filtered +pages):\n%s", size, diff)
				}
			}
		})
	}

	analytics, err := q.Analytics(ctx, a.id)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("analytics", func(t *testing.T) {
		if analytics.EventID != a.id || analytics.TotalParticipants != n {
			t.Errorf("analytics = %s %d participants, want %s %d", analytics.EventID, analytics.TotalParticipants, a.id, n)
		}
		if got, want := analytics.StoreVisits, int64(len(a.visited)); got != want {
			t.Errorf("store visits = %d, want %d", got, want)
		}
		if got, want := analytics.Winners, int64(len(a.draw.Winners)); got != want {
			t.Errorf("winners = %d, want %d", got, want)
		}
		byChannel := map[string]int64{}
		byHour := map[time.Time]int64{}
		for _, r := range a.regs {
			byChannel[string(r.EntryPath)]++
			kst := r.Timestamp.In(time.FixedZone("", 9*3600))
			byHour[time.Date(kst.Year(), kst.Month(), kst.Day(), kst.Hour(), 0, 0, 0, time.UTC).Add(-9*time.Hour)]++
		}
		if diff := cmp.Diff(byChannel, analytics.ByChannel); diff != "" {
			t.Errorf("by channel (-want +got):\n%s", diff)
		}
		// the channel totals are the filtered list's totals
		for path, count := range analytics.ByChannel {
			page, err := q.Participants(ctx, a.id, projections.ParticipantFilter{EntryPath: path, Page: 1, Size: 1})
			if err != nil {
				t.Fatal(err)
			}
			if page.TotalCount != count {
				t.Errorf("%s: list totalCount %d, analytics %d", path, page.TotalCount, count)
			}
		}
		var sum int64
		for i, h := range analytics.ByHour {
			if _, off := h.Hour.Zone(); off != 9*3600 || h.Hour.Minute() != 0 || h.Hour.Second() != 0 {
				t.Errorf("hour %s is not the start of a Seoul hour", h.Hour.Format(time.RFC3339))
			}
			if i > 0 && !analytics.ByHour[i-1].Hour.Before(h.Hour) {
				t.Errorf("hours out of order at %d", i)
			}
			if h.Count != byHour[h.Hour.UTC()] {
				t.Errorf("hour %s: %d, want %d", h.Hour.Format(time.RFC3339), h.Count, byHour[h.Hour.UTC()])
			}
			sum += h.Count
		}
		if sum != n || len(analytics.ByHour) != len(byHour) {
			t.Errorf("hours sum to %d over %d hours, want %d over %d", sum, len(analytics.ByHour), n, len(byHour))
		}
		if first := analytics.ByHour[0].Hour.Format(time.RFC3339); first != "2025-03-01T23:00:00+09:00" {
			t.Errorf("first hour = %s, want 2025-03-01T23:00:00+09:00", first)
		}
		if analytics.UpdatedAt.IsZero() {
			t.Error("updatedAt is zero")
		}
		other, err := q.Analytics(ctx, b.id)
		if err != nil {
			t.Fatal(err)
		}
		if other.TotalParticipants != 30 || other.Winners != 0 || other.StoreVisits != 0 {
			t.Errorf("campaign b = %+v", other)
		}
		none, err := q.Analytics(ctx, uuid.New())
		if err != nil || none.TotalParticipants != 0 || none.ByChannel == nil || none.ByHour == nil {
			t.Errorf("unknown campaign = %+v, %v; want zero figures", none, err)
		}
	})

	gotWinners, err := q.Winners(ctx, a.id)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("winners_by_rank_masked", func(t *testing.T) {
		var want []projections.WinnerRow
		for _, w := range a.draw.Winners {
			i := slices.IndexFunc(a.regs, func(r domain.ParticipantRegistered) bool { return r.ParticipantID == w.ParticipantID })
			want = append(want, projections.WinnerRow{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber,
				Name: domain.MaskName(a.regs[i].Name), Phone: domain.MaskPhone(a.regs[i].Phone), ListedName: domain.MaskListedName(a.regs[i].Name),
				Rank: w.Rank, Kind: projections.WinnerKind,
				ClaimDeadline: seedStart.Add(1000*time.Hour + domain.ClaimWindow)}) // the campaign's default
		}
		if diff := cmp.Diff(want, gotWinners); diff != "" {
			t.Errorf("winners (-want +got):\n%s", diff)
		}
		if none, err := q.Winners(ctx, b.id); err != nil || len(none) != 0 {
			t.Errorf("winners before the draw = %v, %v", none, err)
		}
	})

	t.Run("draw_log_is_the_drawn_event", func(t *testing.T) {
		logs, err := q.DrawLogs(ctx, a.id)
		if err != nil {
			t.Fatal(err)
		}
		v1 := projections.DrawLog{WinnersDrawn: *a.draw, State: projections.DrawStateDrawn} // a v1 draw: no commit
		if diff := cmp.Diff([]projections.DrawLog{v1}, logs, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("draw logs (-want +got):\n%s", diff)
		}
		one, found, err := q.DrawLog(ctx, a.draw.DrawID)
		if err != nil || !found {
			t.Fatalf("DrawLog = %v, %v", found, err)
		}
		if diff := cmp.Diff(v1, one, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("draw log (-want +got):\n%s", diff)
		}
		if _, found, err := q.DrawLog(ctx, uuid.New()); err != nil || found {
			t.Errorf("unknown draw log: found %v, %v", found, err)
		}
		var method string
		if err := e.pool.QueryRow(ctx, `SELECT method FROM draw_log WHERE draw_id = $1`, a.draw.DrawID).Scan(&method); err != nil || method != projections.DrawMethodWeightedRandom {
			t.Errorf("method = %q, %v; want %s", method, err, projections.DrawMethodWeightedRandom)
		}
	})

	t.Run("no_raw_name_or_phone_in_results_or_tables", func(t *testing.T) {
		logs, _ := q.DrawLogs(ctx, a.id)
		results := fmt.Sprintf("%+v %+v %+v %+v", each, gotWinners, analytics, logs)
		var tables strings.Builder
		for table, rows := range snapshot(t, e.pool) {
			fmt.Fprintln(&tables, table, rows)
		}
		for _, r := range append(a.regs, b.regs...) {
			middle := "010-" + strings.Split(r.Phone, "-")[1] + "-"
			for where, text := range map[string]string{"query results": results, "read model tables": tables.String()} {
				if strings.Contains(text, r.Phone) || strings.Contains(text, middle) ||
					strings.Contains(text, strings.ReplaceAll(r.Phone, "-", "")) || strings.Contains(text, r.Name) {
					t.Fatalf("%s hold participant %s's raw name or phone", where, r.EntryNumber)
				}
			}
		}
	})

	t.Run("status_and_lag_metric", func(t *testing.T) {
		head, err := e.store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		status, err := q.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(status) != len(projections.Names()) {
			t.Fatalf("status has %d projections, want %d", len(status), len(projections.Names()))
		}
		for _, s := range status {
			if s.Position != head || s.Lag != 0 || s.UpdatedAt.IsZero() {
				t.Errorf("%s: position %d lag %d at %s; want %d, 0", s.Name, s.Position, s.Lag, s.UpdatedAt, head)
			}
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(projections.NewLagCollector(e.pool, nil))
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		lags := map[string]float64{}
		for _, f := range families {
			if f.GetName() != "participation_projection_lag_events" {
				continue
			}
			for _, m := range f.GetMetric() {
				lags[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		want := map[string]float64{"participants": 0, "winners": 0, "draw-log": 0, "analytics": 0, "campaigns": 0}
		if diff := cmp.Diff(want, lags); diff != "" {
			t.Errorf("lag gauges (-want +got):\n%s", diff)
		}
	})
}

func TestRedeliveredAndOlderEventsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.seedCampaign(t, 60, seedStart, 3)
	b := e.seedCampaign(t, 40, seedStart.Add(time.Hour), 4)
	e.drawWinners(t, a, 0, 10, 59)
	e.drawWinners(t, b, 5)
	events := e.allEvents(t)
	projectors := projections.NewProjectors(e.pool, nil)
	applyAll(t, projectors, events)
	want := snapshot(t, e.pool)
	if len(want["participants"]) != 100 || len(want["winners"]) != 4 || len(want["draw_log"]) != 2 {
		t.Fatalf("seeded read models are not as expected: %d participants, %d winners, %d draw logs",
			len(want["participants"]), len(want["winners"]), len(want["draw_log"]))
	}

	t.Run("the_same_events_again", func(t *testing.T) {
		applyAll(t, projectors, events)
		if diff := cmp.Diff(want, snapshot(t, e.pool)); diff != "" {
			t.Errorf("read models changed (-before +after):\n%s", diff)
		}
	})
	t.Run("in_reverse_and_shuffled", func(t *testing.T) {
		reversed := slices.Clone(events)
		slices.Reverse(reversed)
		applyAll(t, projectors, reversed)
		shuffled := slices.Clone(events)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		applyAll(t, projectors, shuffled)
		if diff := cmp.Diff(want, snapshot(t, e.pool)); diff != "" {
			t.Errorf("read models changed (-before +after):\n%s", diff)
		}
	})
	t.Run("from_a_fresh_projector", func(t *testing.T) {
		applyAll(t, projections.NewProjectors(e.pool, nil), events[len(events)/2:])
		if diff := cmp.Diff(want, snapshot(t, e.pool)); diff != "" {
			t.Errorf("read models changed (-before +after):\n%s", diff)
		}
	})
	t.Run("poison_is_skipped_with_ErrPoison", func(t *testing.T) {
		last := events[len(events)-1]
		for _, bad := range []eventstore.RecordedEvent{
			{ID: uuid.New(), Type: "SomethingNew", Position: last.Position + 1, PartitionKey: a.id.String(), Data: []byte(`{}`)},
			{ID: uuid.New(), Type: domain.TypeParticipantRegistered, Position: last.Position + 2, PartitionKey: a.id.String(), Data: []byte(`{"name": 1`)},
		} {
			for _, p := range projectors {
				err := p.Apply(ctx, bad)
				uses := bad.Type != domain.TypeParticipantRegistered ||
					p.Name() == projections.ParticipantsProjection || p.Name() == projections.AnalyticsProjection ||
					p.Name() == projections.CampaignsProjection
				if uses && !errors.Is(err, projections.ErrPoison) || !uses && err != nil {
					t.Errorf("%s: %s: err = %v, want ErrPoison when the projection uses the type", p.Name(), bad.Type, err)
				}
			}
		}
		if diff := cmp.Diff(want, snapshot(t, e.pool)); diff != "" {
			t.Errorf("read models changed (-before +after):\n%s", diff)
		}
	})
}
