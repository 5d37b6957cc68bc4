package api_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shopevents/participation/api"
)

// ownerClaims are the claims of a valid token of ownerA at fixedNow under
// the default rules, with changes; a nil value removes a claim.
func ownerClaims(changes jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": ownerA,
		"iss": api.DefaultJWTIssuer,
		"aud": api.DefaultJWTAudience,
		"iat": fixedNow.Unix(),
		"exp": fixedNow.Add(time.Hour).Unix(),
	}
	maps.Copy(c, changes)
	for k, v := range c {
		if v == nil {
			delete(c, k)
		}
	}
	return c
}

func TestOwnerTokenClaims(t *testing.T) {
	h := newHTTPHarness(t)
	at := func(d time.Duration) int64 { return fixedNow.Add(d).Unix() }
	cases := []struct {
		name    string
		changes jwt.MapClaims
		ok      bool
		reason  string // a part of the 401's reason
	}{
		{"conforming_token_passes", nil, true, ""},
		{"audience_as_a_list_passes", jwt.MapClaims{"aud": []string{"elsewhere", api.DefaultJWTAudience}}, true, ""},
		{"wrong_issuer_is_401", jwt.MapClaims{"iss": "another-service"}, false, "iss"},
		{"missing_issuer_is_401", jwt.MapClaims{"iss": nil}, false, "iss"},
		{"wrong_audience_is_401", jwt.MapClaims{"aud": "participation-admin"}, false, "aud"},
		{"missing_audience_is_401", jwt.MapClaims{"aud": nil}, false, "aud"},
		{"missing_iat_is_401", jwt.MapClaims{"iat": nil}, false, "iat"},
		{"year_2100_exp_is_401", jwt.MapClaims{"exp": time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()}, false, "lifetime"},
		{"exp_minus_iat_above_the_max_is_401", jwt.MapClaims{"iat": at(-time.Hour), "exp": at(api.DefaultJWTMaxTTL)}, false, "lifetime"},
		{"exp_minus_iat_at_the_max_passes", jwt.MapClaims{"iat": at(-time.Hour), "exp": at(api.DefaultJWTMaxTTL - time.Hour)}, true, ""},
		{"nbf_10s_ahead_passes", jwt.MapClaims{"nbf": at(10 * time.Second)}, true, ""},
		{"nbf_60s_ahead_is_401", jwt.MapClaims{"nbf": at(60 * time.Second)}, false, "not valid yet"},
		{"iat_10s_ahead_passes", jwt.MapClaims{"iat": at(10 * time.Second)}, true, ""},
		{"iat_60s_ahead_is_401", jwt.MapClaims{"iat": at(60 * time.Second)}, false, "not valid yet"},
		{"exp_10s_past_passes", jwt.MapClaims{"iat": at(-time.Hour), "exp": at(-10 * time.Second)}, true, ""},
		{"exp_60s_past_is_401", jwt.MapClaims{"iat": at(-time.Hour), "exp": at(-60 * time.Second)}, false, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			tok := signed(t, jwt.SigningMethodHS256, secret, ownerClaims(tc.changes))
			resp := h.do(http.MethodGet, "/api/v1/events/"+campaignA.String()+"/participants", nil, "Authorization", "Bearer "+tok)
			if tc.ok {
				wantStatus(t, resp, http.StatusOK)
				return
			}
			body := wantError(t, resp, http.StatusUnauthorized, "UNAUTHORIZED")
			if len(body.Errors) != 1 || !strings.Contains(body.Errors[0].Reason, tc.reason) {
				t.Errorf("errors = %+v, want a reason naming %q", body.Errors, tc.reason)
			}
		})
	}
}

func TestOwnerTokenRulesAreConfigurable(t *testing.T) {
	rules := api.TokenRules{Issuer: "shop-platform", Audience: "shop-owners", MaxTTL: time.Hour}
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.Tokens = rules }))
	get := func(tok string) *http.Response {
		return h.do(http.MethodGet, "/api/v1/events/"+campaignA.String()+"/participants", nil, "Authorization", "Bearer "+tok)
	}
	tok, err := rules.Issue(secret, ownerA, time.Hour, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(tok), http.StatusOK)
	// a token under the default rules is another service's here
	wantError(t, get(h.token(ownerA)), http.StatusUnauthorized, "UNAUTHORIZED")
	// Issue caps the lifetime at MaxTTL, so its tokens always pass.
	long, err := rules.Issue(secret, ownerA, 48*time.Hour, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(long), http.StatusOK)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(long, claims); err != nil {
		t.Fatal(err)
	}
	if claims["exp"] != float64(fixedNow.Add(time.Hour).Unix()) {
		t.Errorf("exp = %v, want iat + MaxTTL (%d)", claims["exp"], fixedNow.Add(time.Hour).Unix())
	}
}

func TestTokenRulesValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules api.TokenRules
		ok    bool
	}{
		{"zero_rules_are_the_defaults", api.TokenRules{}, true},
		{"custom_rules", api.TokenRules{Issuer: "a", Audience: "b", MaxTTL: time.Minute}, true},
		{"negative_max_ttl", api.TokenRules{MaxTTL: -1}, false},
		{"padded_issuer", api.TokenRules{Issuer: " a"}, false},
		{"padded_audience", api.TokenRules{Audience: "b\n"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rules.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
