package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

func TestCampaignRowStateAt(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := projections.CampaignRow{StartsAt: start, EndsAt: start.Add(24 * time.Hour)}
	drawn := c
	drawn.Drawn = true
	for _, tc := range []struct {
		name string
		row  projections.CampaignRow
		at   time.Time
		want projections.CampaignState
	}{
		{"before_start_is_scheduled", c, start.Add(-time.Second), projections.CampaignScheduled},
		{"at_start_is_open", c, start, projections.CampaignOpen},
		{"just_before_end_is_open", c, start.Add(24*time.Hour - time.Nanosecond), projections.CampaignOpen},
		{"at_end_is_closed", c, start.Add(24 * time.Hour), projections.CampaignClosed},
		{"drawn_while_open_is_drawn", drawn, start.Add(time.Hour), projections.CampaignDrawn},
		{"drawn_after_end_is_drawn", drawn, start.Add(48 * time.Hour), projections.CampaignDrawn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.row.StateAt(tc.at); got != tc.want {
				t.Errorf("StateAt = %q, want %q", got, tc.want)
			}
		})
	}
}

// An owner's campaigns come newest first, paged, with their counts and the
// state at the time asked; another owner's campaigns never show; a rebuild
// gives the same rows.
func TestCampaignsListsAnOwnersCampaigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	open := func(owner, title string, starts, ends time.Time) *campaignData {
		c := &campaignData{id: uuid.New(), visited: map[uuid.UUID]bool{}}
		e.append(t, c.id, domain.CampaignOpened{EventID: c.id, OwnerID: owner, Title: title,
			StartsAt: starts, EndsAt: ends, AnnounceAt: ends.Add(24 * time.Hour)})
		return c
	}
	closed := open("owner-a", "지난 이벤트", now.Add(-72*time.Hour), now.Add(-24*time.Hour))
	e.register(t, closed, 3, now.Add(-48*time.Hour))
	drawn := open("owner-a", "추첨 끝난 이벤트", now.Add(-72*time.Hour), now.Add(24*time.Hour))
	e.register(t, drawn, 4, now.Add(-48*time.Hour))
	e.drawWinners(t, drawn, 0, 1)
	other := open("owner-b", "다른 사장님", now.Add(-time.Hour), now.Add(time.Hour))
	e.register(t, other, 2, now.Add(-30*time.Minute))
	opened := open("owner-a", "진행 중", now.Add(-time.Hour), now.Add(48*time.Hour))
	e.register(t, opened, 5, now.Add(-30*time.Minute))
	scheduled := open("owner-a", "다음 주 이벤트", now.Add(7*24*time.Hour), now.Add(8*24*time.Hour))
	applyAll(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))

	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	type row struct {
		ID           uuid.UUID
		Title        string
		State        projections.CampaignState
		Participants int64
	}
	list := func(owner string, page, size int) ([]row, int64) {
		t.Helper()
		p, err := q.Campaigns(ctx, owner, projections.CampaignFilter{Page: page, Size: size, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		var out []row
		for _, c := range p.Items {
			out = append(out, row{c.EventID, c.Title, c.State, c.Participants})
		}
		return out, p.TotalCount
	}
	all := []row{
		{scheduled.id, "다음 주 이벤트", projections.CampaignScheduled, 0},
		{opened.id, "진행 중", projections.CampaignOpen, 5},
		{drawn.id, "추첨 끝난 이벤트", projections.CampaignDrawn, 4},
		{closed.id, "지난 이벤트", projections.CampaignClosed, 3},
	}
	for _, tc := range []struct {
		name       string
		owner      string
		page, size int
		want       []row
		total      int64
	}{
		{"first_page_newest_first", "owner-a", 1, 3, all[:3], 4},
		{"second_page_the_rest", "owner-a", 2, 3, all[3:], 4},
		{"past_the_end_is_empty", "owner-a", 3, 3, nil, 4},
		{"another_owner_sees_only_theirs", "owner-b", 1, 20, []row{{other.id, "다른 사장님", projections.CampaignOpen, 2}}, 1},
		{"an_owner_without_campaigns", "owner-c", 1, 20, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total := list(tc.owner, tc.page, tc.size)
			if diff := cmp.Diff(tc.want, got); diff != "" || total != tc.total {
				t.Errorf("total %d, want %d; campaigns (-want +got):\n%s", total, tc.total, diff)
			}
		})
	}
	p, err := q.Campaigns(ctx, "owner-a", projections.CampaignFilter{Page: 1, Size: 1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Items[0]; !c.StartsAt.Equal(now.Add(7*24*time.Hour)) || !c.EndsAt.Equal(now.Add(8*24*time.Hour)) ||
		!c.AnnounceAt.Equal(now.Add(9*24*time.Hour)) {
		t.Errorf("dates: %v %v %v", c.StartsAt, c.EndsAt, c.AnnounceAt)
	}

	before := snapshot(t, e.pool)
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true}); r.Differs() {
		t.Errorf("rebuild differs: %+v", r.Diffs)
	}
	if diff := cmp.Diff(before, snapshot(t, e.pool)); diff != "" {
		t.Errorf("tables after the rebuild (-live +rebuild):\n%s", diff)
	}
}
