package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// fields returns the field names of a *ValidationError, or nil.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var names []string
	for _, f := range ve.Fields {
		names = append(names, f.Field)
	}
	return names
}

func openCampaign(t *testing.T) domain.Campaign {
	t.Helper()
	e, err := domain.OpenCampaign(testEventID, "owner-1", "봄맞이 이벤트", t0, t0.Add(24*time.Hour), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return domain.CampaignFromOpened(e)
}

func TestOpenCampaign(t *testing.T) {
	t.Parallel()
	end, announce := t0.Add(time.Hour), t0.Add(2*time.Hour)
	tests := []struct {
		name                     string
		id                       uuid.UUID
		owner, title             string
		starts, ends, announceAt time.Time
		wantFields               []string
	}{
		{"valid_campaign_opens", testEventID, "owner-1", "봄맞이 이벤트", t0, end, announce, nil},
		{"announcement_at_the_end_is_allowed", testEventID, "owner-1", "t", t0, end, end, nil},
		{"past_dates_are_allowed", testEventID, "owner-1", "t", t0.AddDate(-1, 0, 0), end.AddDate(-1, 0, 0), announce.AddDate(-1, 0, 0), nil},
		{"hundred_character_title_is_allowed", testEventID, "owner-1", strings.Repeat("가", 100), t0, end, announce, nil},
		{"empty_title_is_rejected", testEventID, "owner-1", "   ", t0, end, announce, []string{"title"}},
		{"title_over_hundred_characters_is_rejected", testEventID, "owner-1", strings.Repeat("가", 101), t0, end, announce, []string{"title"}},
		{"title_with_control_character_is_rejected", testEventID, "owner-1", "a\x07b", t0, end, announce, []string{"title"}},
		{"nil_event_id_is_rejected", uuid.Nil, "owner-1", "t", t0, end, announce, []string{"eventId"}},
		{"missing_owner_is_rejected", testEventID, " ", "t", t0, end, announce, []string{"ownerId"}},
		{"end_at_start_is_rejected", testEventID, "owner-1", "t", t0, t0, announce, []string{"endsAt"}},
		{"end_before_start_is_rejected", testEventID, "owner-1", "t", end, t0, announce, []string{"endsAt"}},
		{"announcement_before_end_is_rejected", testEventID, "owner-1", "t", t0, announce, end, []string{"announceAt"}},
		{"missing_times_are_each_reported", testEventID, "owner-1", "t", time.Time{}, time.Time{}, time.Time{}, []string{"startsAt", "endsAt", "announceAt"}},
		{"every_failure_is_reported", uuid.Nil, "", "", end, t0, t0, []string{"eventId", "ownerId", "title", "endsAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := domain.OpenCampaign(tt.id, tt.owner, tt.title, tt.starts, tt.ends, tt.announceAt)
			if tt.wantFields == nil {
				if err != nil {
					t.Fatalf("OpenCampaign() error = %v", err)
				}
				if got, want := e.Title, strings.TrimSpace(tt.title); got != want {
					t.Errorf("title = %q, want %q", got, want)
				}
				return
			}
			if !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("OpenCampaign() error = %v, want ErrInvalid", err)
			}
			if diff := cmp.Diff(tt.wantFields, fields(t, err)); diff != "" {
				t.Errorf("failed fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenCampaignTrimsAndStoresUTC(t *testing.T) {
	t.Parallel()
	seoul := time.FixedZone("KST", 9*3600)
	e, err := domain.OpenCampaign(testEventID, " owner-1 ", "  봄맞이  ", t0.In(seoul), t0.Add(time.Hour).In(seoul), t0.Add(time.Hour).In(seoul))
	if err != nil {
		t.Fatal(err)
	}
	want := domain.CampaignOpened{EventID: testEventID, OwnerID: "owner-1", Title: "봄맞이", StartsAt: t0, EndsAt: t0.Add(time.Hour), AnnounceAt: t0.Add(time.Hour),
		ParticipantIDScheme: domain.ParticipantIDCampaignKey, ClaimDeadline: t0.Add(time.Hour + domain.ClaimWindow)}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestCampaignIsOpenAt(t *testing.T) {
	t.Parallel()
	c := openCampaign(t) // [t0, t0+24h)
	drawn, err := c.Apply(domain.WinnersDrawn{EventID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		campaign domain.Campaign
		now      time.Time
		want     bool
	}{
		{"before_start_is_closed", c, t0.Add(-time.Nanosecond), false},
		{"at_start_is_open", c, t0, true},
		{"during_is_open", c, t0.Add(12 * time.Hour), true},
		{"just_before_end_is_open", c, t0.Add(24*time.Hour - time.Nanosecond), true},
		{"at_end_is_closed", c, t0.Add(24 * time.Hour), false},
		{"after_end_is_closed", c, t0.Add(25 * time.Hour), false},
		{"drawn_campaign_is_closed_before_its_end", drawn, t0.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := tt.campaign.IsOpenAt(tt.now), tt.want; got != want {
				t.Errorf("IsOpenAt(%v) = %t, want %t", tt.now, got, want)
			}
			err := tt.campaign.CheckOpen(tt.now)
			if got, want := errors.Is(err, domain.ErrEventNotOpen), !tt.want; got != want {
				t.Errorf("CheckOpen() = %v, want ErrEventNotOpen: %t", err, want)
			}
		})
	}
}

func TestCampaignApply(t *testing.T) {
	t.Parallel()
	opened, err := domain.OpenCampaign(testEventID, "owner-1", "t", t0, t0.Add(time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, err := domain.Campaign{}.Apply(&opened, domain.WinnersDrawn{EventID: testEventID})
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Campaign{ID: testEventID, OwnerID: "owner-1", Title: "t", StartsAt: t0, EndsAt: t0.Add(time.Hour), AnnounceAt: t0.Add(time.Hour), Drawn: true, IDScheme: domain.ParticipantIDCampaignKey, Version: 1,
		ClaimDeadline: t0.Add(time.Hour + domain.ClaimWindow)}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("campaign (-want +got):\n%s", diff)
	}
	if _, err := c.Apply(domain.WinnersDrawn{EventID: uuid.New()}); err == nil {
		t.Error("Apply(another campaign's draw) error = nil, want an error")
	}
	if _, err := c.Apply(domain.StoreVisitRecorded{}); err == nil {
		t.Error("Apply(StoreVisitRecorded) error = nil, want an error")
	}
}

func TestCampaignCheckOwner(t *testing.T) {
	t.Parallel()
	c := openCampaign(t)
	tests := []struct {
		name    string
		ownerID string
		wantErr error
	}{
		{"owner_is_allowed", "owner-1", nil},
		{"other_owner_is_refused", "owner-2", domain.ErrNotOwner},
		{"empty_owner_is_refused", "", domain.ErrNotOwner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := c.CheckOwner(tt.ownerID); !errors.Is(got, tt.wantErr) || (tt.wantErr == nil && got != nil) {
				t.Errorf("CheckOwner(%q) = %v, want %v", tt.ownerID, got, tt.wantErr)
			}
		})
	}
}
