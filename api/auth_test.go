package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shopevents/participation/api"
)

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestOwnerAuth(t *testing.T) {
	h := newHTTPHarness(t)
	valid := ownerClaims(nil)
	path := "/api/v1/events/" + campaignA.String() + "/participants"
	cases := []struct {
		name       string
		authHeader string
		wantStatus int
		wantCode   string
	}{
		{"no_header_is_401", "", 401, "UNAUTHORIZED"},
		{"basic_scheme_is_401", "Basic b3duZXI6cHc=", 401, "UNAUTHORIZED"},
		{"bearer_without_token_is_401", "Bearer ", 401, "UNAUTHORIZED"},
		{"malformed_token_is_401", "Bearer not.a.jwt", 401, "UNAUTHORIZED"},
		{"expired_token_is_401", "Bearer " + signed(t, jwt.SigningMethodHS256, secret,
			ownerClaims(jwt.MapClaims{"exp": fixedNow.Add(-time.Minute).Unix()})), 401, "UNAUTHORIZED"},
		{"token_without_exp_is_401", "Bearer " + signed(t, jwt.SigningMethodHS256, secret,
			ownerClaims(jwt.MapClaims{"exp": nil})), 401, "UNAUTHORIZED"},
		{"token_without_sub_is_401", "Bearer " + signed(t, jwt.SigningMethodHS256, secret,
			ownerClaims(jwt.MapClaims{"sub": nil})), 401, "UNAUTHORIZED"},
		{"alg_none_is_401", "Bearer " + signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid), 401, "UNAUTHORIZED"},
		{"alg_hs384_is_401", "Bearer " + signed(t, jwt.SigningMethodHS384, secret, valid), 401, "UNAUTHORIZED"},
		{"wrong_secret_is_401", "Bearer " + signed(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), valid), 401, "UNAUTHORIZED"},
		{"lower_case_scheme_is_accepted", "bearer " + signed(t, jwt.SigningMethodHS256, secret, valid), 200, ""},
		{"other_owners_campaign_is_403", "Bearer " + h.token(ownerB), 403, "FORBIDDEN"},
		{"own_campaign_is_200", "Bearer " + h.token(ownerA), 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			var headers []string
			if tc.authHeader != "" {
				headers = []string{"Authorization", tc.authHeader}
			}
			resp := h.do(http.MethodGet, path, nil, headers...)
			if tc.wantCode == "" {
				wantStatus(t, resp, tc.wantStatus)
				return
			}
			wantError(t, resp, tc.wantStatus, tc.wantCode)
			if tc.wantStatus == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestUnknownCampaignIs404AndOwnershipComesFirstFor403(t *testing.T) {
	h := newHTTPHarness(t)
	unknown := "/api/v1/events/22222222-2222-4222-8222-222222222222"
	for _, p := range []string{"/participants", "/participants.csv", "/winners", "/draw-logs", "/analytics", "/analytics/stream"} {
		wantError(t, h.asOwner(ownerA, http.MethodGet, unknown+p, nil), 404, "EVENT_NOT_FOUND")
		wantError(t, h.asOwner(ownerB, http.MethodGet, "/api/v1/events/"+campaignA.String()+p, nil), 403, "FORBIDDEN")
	}
	wantError(t, h.asOwner(ownerA, http.MethodPost, unknown+"/draw-winners", jsonBody(`{"winnerCount":1}`)), 404, "EVENT_NOT_FOUND")
	wantError(t, h.asOwner(ownerB, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/participants/ABCD-2345/visit", nil), 403, "FORBIDDEN")
	if got := h.cmds.commandsReceived(); len(got) != 0 {
		t.Errorf("commands received %v, want none", got)
	}
}

func TestBadTokenOnBadBodyIs401(t *testing.T) {
	h := newHTTPHarness(t)
	bad := []string{"Authorization", "Bearer nope"}
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/events", `{"title": 1, "oops"`},
		{http.MethodPost, "/api/v1/events", strings.Repeat("x", 2<<20)},
		{http.MethodPost, "/api/v1/events/" + campaignA.String() + "/draw-winners", `{"winnerCount":"many"}`},
		{http.MethodPost, "/api/v1/events/not-a-uuid/draw-winners", `{`},
	} {
		wantError(t, h.do(tc.method, tc.path, jsonBody(tc.body), bad...), 401, "UNAUTHORIZED")
	}
	// Authorization comes before the body too: another owner's bad body is 403.
	wantError(t, h.asOwner(ownerB, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/draw-winners", jsonBody(`{`)), 403, "FORBIDDEN")
	if got := h.cmds.commandsReceived(); len(got) != 0 {
		t.Errorf("commands received %v, want none", got)
	}
}

func TestIssueToken(t *testing.T) {
	if _, err := api.IssueToken(nil, "o", time.Hour, fixedNow); err == nil {
		t.Error("empty secret: want an error")
	}
	if _, err := api.IssueToken(secret, " ", time.Hour, fixedNow); err == nil {
		t.Error("empty owner: want an error")
	}
	if _, err := api.IssueToken(secret, "o", 0, fixedNow); err == nil {
		t.Error("zero ttl: want an error")
	}
	tok, err := api.IssueToken(secret, "owner-1", time.Minute, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "owner-1" || claims["exp"] != float64(fixedNow.Add(time.Minute).Unix()) ||
		claims["iat"] != float64(fixedNow.Unix()) || claims["iss"] != api.DefaultJWTIssuer ||
		!slices.Equal(claimStrings(claims["aud"]), []string{api.DefaultJWTAudience}) {
		t.Errorf("claims = %v", claims)
	}
}

// claimStrings reads aud, a string or a list of them.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			str, _ := s.(string)
			out = append(out, str)
		}
		return out
	}
	return nil
}

func TestNoSecretRejectsEveryOwner(t *testing.T) {
	h := newHTTPHarness(t)
	h.handler = api.NewServer(api.Config{Now: func() time.Time { return fixedNow }}, h.cmds.app(), h.queries, nil, nil)
	// A token signed with an empty key must not pass either.
	tok := signed(t, jwt.SigningMethodHS256, []byte{}, ownerClaims(nil))
	wantError(t, h.do(http.MethodGet, "/api/v1/events/"+campaignA.String()+"/winners", nil, "Authorization", "Bearer "+tok), 401, "UNAUTHORIZED")
}
