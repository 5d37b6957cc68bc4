package api_test

import (
	"github.com/shopevents/participation/api"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A body must say it is JSON: a cross-site page can send text/plain, form
// and multipart bodies without a preflight, never application/json.
func TestBodiesMustBeJSON(t *testing.T) {
	registration := registrationJSON(campaignA, "010-1234-5678")
	campaign := "/api/v1/events/" + campaignA.String()
	cases := []struct {
		name        string
		method      string
		path        string
		owner       bool
		body        string
		contentType string // "-": no header
		chunked     bool
		wantStatus  int
	}{
		{"text_plain_registration_is_415", "POST", "/api/v1/participations", false, registration, "text/plain", false, 415},
		{"form_registration_is_415", "POST", "/api/v1/participations", false, registration, "application/x-www-form-urlencoded", false, 415},
		{"multipart_erasure_is_415", "POST", "/api/v1/participations/erase", false, `{}`, "multipart/form-data; boundary=x", false, 415},
		{"registration_without_content_type_is_415", "POST", "/api/v1/participations", false, registration, "-", false, 415},
		{"chunked_text_plain_registration_is_415", "POST", "/api/v1/participations", false, registration, "text/plain", true, 415},
		{"json_lookalike_is_415", "POST", "/api/v1/participations", false, registration, "application/json-patch+json", false, 415},
		{"json_in_latin1_is_415", "POST", "/api/v1/participations", false, registration, "application/json; charset=iso-8859-1", false, 415},
		{"text_plain_draw_is_415", "POST", campaign + "/draw-winners", true, `{"winnerCount":1}`, "text/plain", false, 415},
		{"text_plain_campaign_is_415", "POST", "/api/v1/events", true, `{"title":"x"}`, "text/plain", false, 415},
		{"text_plain_body_on_an_empty_post_is_415", "POST", campaign + "/participants/ABCD-2345/visit", true, "x", "text/plain", false, 415},
		{"text_plain_body_on_a_delete_is_415", "DELETE", campaign + "/participants/ABCD-2345", true, "x", "text/plain", false, 415},
		{"json_with_charset_is_accepted", "POST", "/api/v1/participations", false, registration, "application/json; charset=utf-8", false, 201},
		{"json_in_capitals_is_accepted", "POST", "/api/v1/participations", false, registration, "Application/JSON; Charset=UTF-8", false, 201},
		{"chunked_json_is_accepted", "POST", "/api/v1/participations", false, registration, "application/json", true, 201},
		{"empty_visit_needs_no_content_type", "POST", campaign + "/participants/ABCD-2345/visit", true, "", "-", false, 200},
		{"empty_contact_reveal_needs_no_content_type", "POST", campaign + "/winners/ABCD-2345/contact", true, "", "-", false, 404},
		{"empty_delete_needs_no_content_type", "DELETE", campaign + "/participants/ABCD-2345", true, "", "-", false, 204},
		{"empty_body_with_text_plain_is_accepted", "POST", campaign + "/participants/ABCD-2345/visit", true, "", "text/plain", false, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.body == "" {
				req = httptest.NewRequest(tc.method, tc.path, nil)
			}
			if tc.chunked {
				req.ContentLength = -1
				req.TransferEncoding = []string{"chunked"}
			}
			if tc.contentType != "-" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.owner {
				req.Header.Set("Authorization", "Bearer "+h.token(ownerA))
			}
			resp := h.send(req)
			if tc.wantStatus != 415 {
				wantStatus(t, resp, tc.wantStatus)
				return
			}
			body := wantError(t, resp, 415, "UNSUPPORTED_MEDIA_TYPE")
			if !body.hasField("Content-Type") {
				t.Errorf("errors = %+v, want one naming Content-Type", body.Errors)
			}
			if got := h.cmds.commandsReceived(); len(got) != 0 {
				t.Errorf("commands received %v, want none", got)
			}
		})
	}
}

// Authentication comes before the body's type, as before its content.
func TestBadTokenOnTextPlainBodyIs401(t *testing.T) {
	h := newHTTPHarness(t)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/events", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer nope")
	wantError(t, h.send(req), 401, "UNAUTHORIZED")
}

func TestSecurityHeaders(t *testing.T) {
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.Campaigns = &fakeCampaigns{} }))
	campaign := "/api/v1/events/" + campaignA.String()
	cases := []struct {
		name    string
		method  string
		path    string
		owner   bool
		body    string
		noStore bool
	}{
		{"health", "GET", "/healthz", false, "", false},
		{"spec", "GET", "/openapi.json", false, "", false},
		{"unknown_route", "GET", "/nope", false, "", false},
		{"public_campaign", "GET", campaign + "/public", false, "", false},
		{"registration", "POST", "/api/v1/participations", false, registrationJSON(campaignA, "010-1234-5678"), false},
		{"owner_401", "GET", campaign + "/participants", false, "", true},
		{"owner_campaigns", "GET", "/api/v1/events", true, "", true},
		{"owner_participants", "GET", campaign + "/participants", true, "", true},
		{"owner_csv", "GET", campaign + "/participants.csv", true, "", true},
		{"owner_qr", "GET", campaign + "/qr.png", true, "", true},
		{"owner_analytics", "GET", campaign + "/analytics", true, "", true},
		{"owner_draw", "POST", campaign + "/draw-winners", true, `{"winnerCount":1}`, true},
		{"owner_403", "GET", "/api/v1/events/" + campaignA.String() + "/winners", false, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			var headers []string
			switch {
			case tc.owner:
				headers = []string{"Authorization", "Bearer " + h.token(ownerA)}
			case tc.name == "owner_403":
				headers = []string{"Authorization", "Bearer " + h.token(ownerB)}
			}
			var resp *http.Response
			if tc.body != "" {
				resp = h.do(tc.method, tc.path, jsonBody(tc.body), headers...)
			} else {
				resp = h.do(tc.method, tc.path, nil, headers...)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%d: X-Content-Type-Options = %q, want nosniff", resp.StatusCode, got)
			}
			if got := resp.Header.Values("Cache-Control"); tc.noStore && (len(got) != 1 || got[0] != "no-store") {
				t.Errorf("%d: Cache-Control = %q, want exactly no-store", resp.StatusCode, got)
			}
		})
	}
}

// A body of unknown length without Transfer-Encoding (how net/http shows a
// streamed HTTP/2 body) carries a body too.
func TestStreamedBodyMustBeJSON(t *testing.T) {
	h := newHTTPHarness(t)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/participations", strings.NewReader(registrationJSON(campaignA, "010-1234-5678")))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "text/plain")
	wantError(t, h.send(req), 415, "UNSUPPORTED_MEDIA_TYPE")
	if got := h.cmds.commandsReceived(); len(got) != 0 {
		t.Errorf("commands received %v, want none", got)
	}
}
