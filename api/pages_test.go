package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/web"
)

// withWebPages mounts the real pages, their 404 told by the API's
// campaign check as the wiring does.
func withWebPages(t *testing.T) harnessOption {
	t.Helper()
	return withConfig(func(c *api.Config) {
		c.Pages = func(check api.CampaignCheck) http.Handler {
			h, err := web.NewHandler(web.Config{Campaign: func(ctx context.Context, id uuid.UUID) error {
				if err := check(ctx, id); errors.Is(err, domain.ErrCampaignNotFound) {
					return web.ErrNoCampaign
				}
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
	})
}

// fromIP sends a GET from the client ip, past the spec check (the pages
// are HTML); a 429, the JSON error shape, is checked against the spec.
func fromIP(h *httpHarness, path, ip string) *http.Response {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = ip + ":40000"
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode == http.StatusTooManyRequests {
		apitest.ValidateResponse(h.t, h.spec, req, resp)
	}
	return resp
}

// The customer page's 404 is the public routes' rule: an id one of them
// found unknown is not asked about again, whether by the page or the API.
func TestCustomerPageSharesTheMissCache(t *testing.T) {
	h := newHTTPHarness(t, withWebPages(t))
	unknown := uuid.New()
	for _, path := range []string{"/p/" + unknown.String(), "/p/" + unknown.String() + "/erase", "/p/" + unknown.String()} {
		if rec := serve(h, http.MethodGet, path); rec.Code != http.StatusNotFound {
			t.Fatalf("GET %s = %d, want 404", path, rec.Code)
		}
	}
	wantError(t, h.do(http.MethodGet, "/api/v1/events/"+unknown.String()+"/public", nil), 404, "EVENT_NOT_FOUND")
	if n := h.cmds.campaignReads.Load(); n != 1 {
		t.Fatalf("three page loads and one API read of an unknown id read the campaign %d times, want 1", n)
	}
	if rec := serve(h, http.MethodGet, "/p/"+campaignA.String()); rec.Code != http.StatusOK {
		t.Fatalf("a known campaign's page = %d, want 200", rec.Code)
	}
}

// Distinct made-up ids miss the cache; the per-IP limiter bounds them: past
// the burst, one IP's page loads are 429 and reach the store no more. The
// assets stay unlimited.
func TestCustomerPageFloodFromOneIPIsLimited(t *testing.T) {
	const burst = 5
	h := newHTTPHarness(t, withWebPages(t), withConfig(func(c *api.Config) {
		c.RateLimit = api.RateLimit{PerSecond: 0.001, Burst: burst}
	}))
	const flood = 50
	limited := 0
	for range flood {
		switch resp := fromIP(h, "/p/"+uuid.NewString(), "203.0.113.7"); resp.StatusCode {
		case http.StatusNotFound:
		case http.StatusTooManyRequests:
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("a 429 without Retry-After")
			}
		default:
			t.Fatalf("GET /p/{made-up id} = %d", resp.StatusCode)
		}
	}
	if limited != flood-burst {
		t.Errorf("%d of %d page loads were 429, want %d", limited, flood, flood-burst)
	}
	if n := h.cmds.campaignReads.Load(); n != burst {
		t.Errorf("a flood of %d made-up ids read the store %d times, want %d (the burst)", flood, n, burst)
	}
	for range 2 * burst {
		if resp := fromIP(h, "/assets/customer.js", "203.0.113.7"); resp.StatusCode != http.StatusOK {
			t.Fatalf("an asset for a limited IP = %d, want 200", resp.StatusCode)
		}
	}
	if resp := fromIP(h, "/p/"+uuid.NewString(), "203.0.113.8"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another IP's page load = %d, want 404", resp.StatusCode)
	}
}
