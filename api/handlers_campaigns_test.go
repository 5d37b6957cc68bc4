package api_test

import (
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

// fakeCampaigns answers GET /api/v1/events from fixed rows and records what
// it was asked.
type fakeCampaigns struct {
	mu    sync.Mutex
	asked []string
	page  api.CampaignPage
}

func (f *fakeCampaigns) Campaigns(_ context.Context, owner string, filter api.CampaignFilter) (api.CampaignPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, fmt.Sprintf("%s %s %d/%d", owner, filter.Now.Format(time.RFC3339), filter.Page, filter.Size))
	return f.page, nil
}

// serve sends a request past the spec check (the pages are HTML).
func serve(h *httpHarness, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestListCampaigns(t *testing.T) {
	at := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	campaigns := &fakeCampaigns{page: api.CampaignPage{TotalCount: 21, Items: []api.CampaignRow{{
		EventID: campaignA, Title: "봄맞이", StartsAt: at, EndsAt: at.Add(time.Hour), AnnounceAt: at.Add(2 * time.Hour),
		ClaimDeadline: at.Add(3 * time.Hour), Participants: 7, State: projections.CampaignClosed,
	}}}}
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.Campaigns = campaigns }))

	resp := h.asOwner(ownerA, http.MethodGet, "/api/v1/events?page=2&size=20", nil)
	wantStatus(t, resp, http.StatusOK)
	got := decode[map[string]any](t, resp)
	want := map[string]any{"totalCount": 21.0, "page": 2.0, "size": 20.0, "events": []any{map[string]any{
		"eventId": campaignA.String(), "title": "봄맞이", "state": "closed", "participantCount": 7.0,
		"startsAt": "2025-04-01T00:00:00Z", "endsAt": "2025-04-01T01:00:00Z", "announceAt": "2025-04-01T02:00:00Z",
		"claimDeadline": "2025-04-01T03:00:00Z",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ownerA + " 2025-05-01T10:00:00Z 2/20"}, campaigns.asked); diff != "" {
		t.Errorf("the read model was asked (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"page zero", "?page=0", http.StatusBadRequest},
		{"page not a number", "?page=x", http.StatusBadRequest},
		{"size above 100", "?size=101", http.StatusBadRequest},
		{"size zero", "?size=0", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events"+tc.query, nil), tc.status, "INVALID_REQUEST")
		})
	}
	t.Run("no token", func(t *testing.T) {
		wantError(t, h.do(http.MethodGet, "/api/v1/events", nil), http.StatusUnauthorized, "UNAUTHORIZED")
	})
	t.Run("no read model", func(t *testing.T) {
		bare := newHTTPHarness(t)
		wantError(t, bare.asOwner(ownerA, http.MethodGet, "/api/v1/events", nil), http.StatusServiceUnavailable, "UNAVAILABLE")
	})
}

func TestPublicCampaignState(t *testing.T) {
	h := newHTTPHarness(t)
	for _, tc := range []struct {
		name     string
		campaign domain.Campaign
		state    string
	}{
		{"before the start", domain.Campaign{StartsAt: fixedNow.Add(time.Minute), EndsAt: fixedNow.Add(time.Hour)}, "scheduled"},
		{"at the start", domain.Campaign{StartsAt: fixedNow, EndsAt: fixedNow.Add(time.Hour)}, "open"},
		{"at the end", domain.Campaign{StartsAt: fixedNow.Add(-time.Hour), EndsAt: fixedNow}, "closed"},
		{"drawn while open", domain.Campaign{StartsAt: fixedNow.Add(-time.Hour), EndsAt: fixedNow.Add(time.Hour), Drawn: true}, "drawn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.campaign
			c.ID, c.OwnerID, c.Title, c.AnnounceAt = campaignA, ownerA, "봄맞이", c.EndsAt.Add(time.Hour)
			h.cmds.campaignFn = func(uuid.UUID) domain.Campaign { return c }
			resp := h.do(http.MethodGet, "/api/v1/events/"+campaignA.String()+"/public", nil)
			wantStatus(t, resp, http.StatusOK)
			got := decode[map[string]any](t, resp)
			if got["state"] != tc.state || got["title"] != "봄맞이" {
				t.Errorf("got %v, want state %s", got, tc.state)
			}
			if _, ok := got["ownerId"]; ok {
				t.Error("the public read names the owner")
			}
		})
	}
	wantError(t, h.do(http.MethodGet, "/api/v1/events/"+uuid.NewString()+"/public", nil), http.StatusNotFound, "EVENT_NOT_FOUND")

	t.Run("retention", func(t *testing.T) {
		withRetention := newHTTPHarness(t, withConfig(func(c *api.Config) {
			c.Retention = &api.Retention{NonWinners: 168 * time.Hour, Winners: 2160*time.Hour + time.Minute}
		}))
		got := decode[map[string]any](t, withRetention.do(http.MethodGet, "/api/v1/events/"+campaignA.String()+"/public", nil))
		want := map[string]any{"nonWinnersHours": 168.0, "winnersHours": 2161.0} // rounded up, never shorter
		if diff := cmp.Diff(want, got["retention"]); diff != "" {
			t.Errorf("retention (-want +got):\n%s", diff)
		}
	})
	if _, ok := decode[map[string]any](t, h.do(http.MethodGet, "/api/v1/events/"+campaignA.String()+"/public", nil))["retention"]; ok {
		t.Error("retention shown though none is configured")
	}
	wantError(t, h.do(http.MethodGet, "/api/v1/events/not-a-uuid/public", nil), http.StatusBadRequest, "INVALID_REQUEST")
}

func TestStoreQR(t *testing.T) {
	h := newHTTPHarness(t)
	path := "/api/v1/events/" + campaignA.String() + "/qr.png"
	resp := h.asOwner(ownerA, http.MethodGet, path, nil)
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type %q", ct)
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	b := img.Bounds()
	// 8 px a module; a version 1..40 code is 21..177 modules plus 8 of quiet zone.
	if b.Dx() != b.Dy() || b.Dx()%8 != 0 || b.Dx()/8 < 29 || b.Dx()/8 > 185 {
		t.Errorf("QR image %v", b)
	}
	if r, _, _, _ := img.At(0, 0).RGBA(); r != 0xffff {
		t.Error("the quiet zone is not white")
	}

	wantError(t, h.do(http.MethodGet, path, nil), http.StatusUnauthorized, "UNAUTHORIZED")
	wantError(t, h.asOwner(ownerB, http.MethodGet, path, nil), http.StatusForbidden, "FORBIDDEN")
	wantError(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+uuid.NewString()+"/qr.png", nil), http.StatusNotFound, "EVENT_NOT_FOUND")
}

func TestPagesAreMountedBesideTheAPI(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("page " + r.URL.Path))
	})
	h := newHTTPHarness(t, withConfig(func(c *api.Config) {
		c.Pages = func(api.CampaignCheck) http.Handler { return pages }
	}))
	for _, path := range []string{"/owner/", "/p/" + campaignA.String(), "/p/" + campaignA.String() + "/erase", "/assets/app.css"} {
		rec := serve(h, http.MethodGet, path)
		if rec.Code != http.StatusOK || rec.Body.String() != "page "+path {
			t.Errorf("GET %s → %d %q", path, rec.Code, rec.Body.String())
		}
	}
	if rec := serve(h, http.MethodGet, "/"); rec.Code != http.StatusFound || rec.Header().Get("Location") != "/owner/" {
		t.Errorf("GET / → %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// The API's own 404 stays the error shape.
	wantError(t, h.do(http.MethodGet, "/nope", nil), http.StatusNotFound, "NOT_FOUND")
}
