package api_test

import (
	"net/http"
	"testing"

	"github.com/shopevents/participation/api"
)

// The harness's clock stands still: no token refills during these tests.
func TestOwnerRoutesAreRateLimitedPerOwner(t *testing.T) {
	campaign := "/api/v1/events/" + campaignA.String()
	list, csv := campaign+"/participants", campaign+"/participants.csv"
	verify := "/api/v1/draw-logs/33333333-3333-4333-8333-333333333333/verify"
	draw := campaign + "/draw-winners"
	type step struct {
		owner, method, path string
		want                int // 0: anything but 429
	}
	repeat := func(n int, s step) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	ok := func(owner, method, path string) step { return step{owner, method, path, 0} }
	limited := func(owner, method, path string) step { return step{owner, method, path, 429} }
	cases := []struct {
		name  string
		limit api.RateLimit
		steps []step
		retry string // Retry-After of the last step
	}{
		{"past_the_burst_is_429", api.RateLimit{PerSecond: 1, Burst: 20},
			append(repeat(20, ok(ownerA, "GET", list)), limited(ownerA, "GET", list)), "1"},
		{"a_csv_export_costs_ten", api.RateLimit{PerSecond: 1, Burst: 20},
			[]step{ok(ownerA, "GET", csv), ok(ownerA, "GET", csv), limited(ownerA, "GET", list)}, "1"},
		{"a_verification_costs_ten", api.RateLimit{PerSecond: 1, Burst: 20},
			[]step{ok(ownerA, "GET", verify), ok(ownerA, "GET", verify), limited(ownerA, "GET", list)}, "1"},
		{"a_draw_costs_ten", api.RateLimit{PerSecond: 1, Burst: 20},
			append(repeat(11, ok(ownerA, "GET", list)), limited(ownerA, "POST", draw)), "1"},
		{"a_costly_request_waits_for_its_ten_tokens", api.RateLimit{PerSecond: 1, Burst: 20},
			append(repeat(20, ok(ownerA, "GET", list)), limited(ownerA, "GET", csv)), "10"},
		{"a_cost_above_the_burst_is_capped_at_it", api.RateLimit{PerSecond: 1, Burst: 5},
			[]step{ok(ownerA, "GET", csv), limited(ownerA, "GET", list)}, "1"},
		{"owners_have_their_own_buckets", api.RateLimit{PerSecond: 1, Burst: 3},
			append(repeat(3, ok(ownerA, "GET", list)), limited(ownerA, "GET", list),
				ok(ownerB, "GET", list), ok(ownerB, "GET", list), ok(ownerB, "GET", list),
				limited(ownerB, "GET", list)), "1"},
		{"off_is_no_limit", api.RateLimit{Off: true}, repeat(100, ok(ownerA, "GET", csv)), ""},
		{"public_routes_do_not_spend_owner_tokens", api.RateLimit{PerSecond: 1, Burst: 1},
			[]step{ok("", "GET", campaign+"/public"), ok("", "GET", campaign+"/public"), ok(ownerA, "GET", list)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.OwnerRateLimit = tc.limit }))
			var last *http.Response
			for i, s := range tc.steps {
				var body = jsonBody(`{"winnerCount":1}`)
				if s.method != http.MethodPost {
					body = nil
				}
				if s.owner == "" {
					last = h.do(s.method, s.path, body)
				} else {
					last = h.asOwner(s.owner, s.method, s.path, body)
				}
				if s.want == 429 {
					wantError(t, last, 429, "RATE_LIMITED")
				} else if last.StatusCode == 429 {
					t.Fatalf("step %d (%s %s as %q): 429, want it admitted", i, s.method, s.path, s.owner)
				}
			}
			if got := last.Header.Get("Retry-After"); got != tc.retry {
				t.Errorf("Retry-After = %q, want %q", got, tc.retry)
			}
		})
	}
}

func TestOwnerRateLimitDefaultsTo20PerSecond(t *testing.T) {
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.OwnerRateLimit = api.RateLimit{} }))
	list := "/api/v1/events/" + campaignA.String() + "/participants"
	for i := range 40 { // the burst is twice the rate
		if resp := h.asOwner(ownerA, http.MethodGet, list, nil); resp.StatusCode == 429 {
			t.Fatalf("request %d of the default burst of 40 refused", i+1)
		}
	}
	wantError(t, h.asOwner(ownerA, http.MethodGet, list, nil), 429, "RATE_LIMITED")
}
