package app

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// POST /api/v1/events takes an optional claimDeadline (default announceAt +
// 7 days, not before announceAt), and the 201, the public campaign and the
// owner's list (the campaigns read model) carry it.
func TestCampaignClaimDeadline(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.run()
	owner := token(t, ownerA)
	w := openNow()
	explicit := w.announceAt.Add(72 * time.Hour)
	open := func(t *testing.T, deadline any) answer {
		t.Helper()
		body := campaignBody(uuid.New(), "당첨 안내 이벤트", w)
		if deadline != nil {
			body["claimDeadline"] = deadline
		}
		return a.in(t).call(http.MethodPost, "/api/v1/events", owner, body)
	}
	want := map[uuid.UUID]time.Time{}
	for _, tc := range []struct {
		name     string
		deadline any
		want     time.Time
	}{
		{"absent_is_announce_plus_seven_days", nil, w.announceAt.Add(7 * 24 * time.Hour)},
		{"explicit_in_seoul_time", explicit.In(time.FixedZone("KST", 9*3600)).Format(time.RFC3339), explicit},
		{"at_the_announcement", w.announceAt.Format(time.RFC3339), w.announceAt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := open(t, tc.deadline)
			if ans.Status != http.StatusCreated {
				t.Fatalf("open → %d, want 201: %s", ans.Status, ans.Body)
			}
			got := decode[struct {
				EventID       uuid.UUID `json:"eventId"`
				ClaimDeadline time.Time `json:"claimDeadline"`
			}](t, ans)
			if !got.ClaimDeadline.Equal(tc.want) {
				t.Fatalf("201's claimDeadline %v, want %v", got.ClaimDeadline, tc.want)
			}
			want[got.EventID] = tc.want.UTC()
			public := decode[struct {
				ClaimDeadline time.Time `json:"claimDeadline"`
			}](t, a.in(t).call(http.MethodGet, "/api/v1/events/"+got.EventID.String()+"/public", "", nil))
			if !public.ClaimDeadline.Equal(tc.want) {
				t.Errorf("public claimDeadline %v, want %v", public.ClaimDeadline, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name     string
		deadline any
	}{
		{"before_the_announcement", w.announceAt.Add(-time.Second).Format(time.RFC3339)},
		{"year_one", "0001-01-01T00:00:00Z"},
		{"not_rfc3339", "2026-12-01 10:00"},
		{"a_number", 1764547200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := open(t, tc.deadline)
			if ans.Status != http.StatusBadRequest || !cmp.Equal(errorOf(ans).fields(), []string{"claimDeadline"}) {
				t.Fatalf("open → %d %s, want 400 naming claimDeadline", ans.Status, ans.Body)
			}
		})
	}
	waitUntil(t, "the campaigns model's claim deadlines", func() error {
		page := decode[struct {
			Events []struct {
				EventID       uuid.UUID `json:"eventId"`
				ClaimDeadline time.Time `json:"claimDeadline"`
			} `json:"events"`
		}](t, a.call(http.MethodGet, "/api/v1/events", owner, nil))
		got := map[uuid.UUID]time.Time{}
		for _, e := range page.Events {
			got[e.EventID] = e.ClaimDeadline.UTC()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Errorf("claim deadlines (-want +got):\n%s", diff)
		}
		return nil
	})
}
