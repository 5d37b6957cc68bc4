package projections_test

import (
	"testing"
	"time"

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
