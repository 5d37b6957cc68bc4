package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopevents/participation/domain"
)

func TestOpenCampaignClaimDeadline(t *testing.T) {
	t.Parallel()
	end, announce := t0.Add(time.Hour), t0.Add(2*time.Hour)
	for _, tc := range []struct {
		name     string
		deadline time.Time
		want     time.Time
		fields   []string
	}{
		{"absent_is_announce_plus_seven_days", time.Time{}, announce.Add(7 * 24 * time.Hour), nil},
		{"explicit_is_kept_in_utc", announce.Add(72 * time.Hour).In(time.FixedZone("KST", 9*3600)), announce.Add(72 * time.Hour), nil},
		{"at_the_announcement_is_allowed", announce, announce, nil},
		{"before_the_announcement_is_400", announce.Add(-time.Second), time.Time{}, []string{"claimDeadline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := domain.OpenCampaignWithClaimDeadline(testEventID, "owner-1", "이벤트", t0, end, announce, tc.deadline)
			if diff := cmp.Diff(tc.fields, fields(t, err)); diff != "" {
				t.Fatalf("fields (-want +got):\n%s (err %v)", diff, err)
			}
			if err != nil {
				return
			}
			if !e.ClaimDeadline.Equal(tc.want) || e.ClaimDeadline.Location() != time.UTC {
				t.Errorf("claimDeadline = %v, want %v in UTC", e.ClaimDeadline, tc.want)
			}
			if c := domain.CampaignFromOpened(e); !c.ClaimDeadline.Equal(tc.want) {
				t.Errorf("campaign's claimDeadline = %v, want %v", c.ClaimDeadline, tc.want)
			}
		})
	}
	// Every failed field at once: the deadline with the others.
	_, err := domain.OpenCampaignWithClaimDeadline(testEventID, "owner-1", "", t0, end, announce, t0)
	if diff := cmp.Diff([]string{"title", "claimDeadline"}, fields(t, err)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

// A CampaignOpened stored before claimDeadline existed decodes with the
// default; one stored with it keeps it, and the field round-trips.
func TestDecodeCampaignOpenedClaimDeadline(t *testing.T) {
	t.Parallel()
	old := `{"eventId":"` + testEventID.String() + `","ownerId":"owner-1","title":"t",` +
		`"startsAt":"2026-11-01T00:00:00Z","endsAt":"2026-11-02T00:00:00Z","announceAt":"2026-11-03T00:00:00Z","participantIdScheme":1}`
	e, err := domain.DecodeEvent(domain.TypeCampaignOpened, []byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.(domain.CampaignOpened).ClaimDeadline, time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("old event's claimDeadline = %v, want %v (announceAt + 7 days)", got, want)
	}
	opened, err := domain.OpenCampaignWithClaimDeadline(testEventID, "owner-1", "t", t0, t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(opened)
	if err != nil {
		t.Fatal(err)
	}
	back, err := domain.DecodeEvent(domain.TypeCampaignOpened, data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(opened, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
