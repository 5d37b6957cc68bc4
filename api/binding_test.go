package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRegistrationBindingIsStrict(t *testing.T) {
	const event = `"eventId":"11111111-1111-4111-8111-111111111111"`
	cases := []struct {
		name      string
		body      string
		wantField string
	}{
		{"empty_body_is_400", ``, "body"},
		{"malformed_json_is_400", `{"eventId": `, "body"},
		{"syntax_error_is_400", `{"name" "김민수"}`, "body"},
		{"array_body_is_400", `[]`, "body"},
		{"unknown_field_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true,"admin":true}`, "admin"},
		{"wrong_type_is_400", `{` + event + `,"name":"김민수","phone":1012345678,"entryPath":"KAKAO","privacyConsent":true}`, "phone"},
		{"consent_as_string_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":"yes"}`, "privacyConsent"},
		{"trailing_data_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true} {}`, "body"},
		{"trailing_garbage_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}x`, "body"},
		{"missing_event_id_is_400", `{"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`, "eventId"},
		{"malformed_event_id_is_400", `{"eventId":"1234","name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`, "eventId"},
		{"missing_consent_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO"}`, "privacyConsent"},
		{"missing_name_is_400", `{` + event + `,"phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`, "name"},
		// Keys are the spec's, exactly: encoding/json alone matches them case-insensitively.
		{"upper_case_twin_of_consent_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":false,"PRIVACYCONSENT":true}`, "PRIVACYCONSENT"},
		{"consent_in_other_case_alone_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","PrivacyConsent":true}`, "PrivacyConsent"},
		{"event_id_in_other_case_is_400", `{"EventID":"11111111-1111-4111-8111-111111111111","name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`, "EventID"},
		{"duplicate_key_is_400", `{` + event + `,"name":"김민수","name":"이영희","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`, "name"},
		{"duplicate_consent_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":false,"privacyConsent":true}`, "privacyConsent"},
		{"null_name_is_400", `{` + event + `,"name":null,"phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`, "name"},
		{"consent_as_number_is_400", `{` + event + `,"name":"김민수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":1}`, "privacyConsent"},
		{"name_as_array_is_400", `{` + event + `,"name":["김민수"],"phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true}`, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			body := wantError(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(tc.body)), 400, "INVALID_REQUEST")
			if !body.hasField(tc.wantField) {
				t.Errorf("errors = %+v, want one for %q", body.Errors, tc.wantField)
			}
			if got := h.cmds.commandsReceived(); len(got) != 0 {
				t.Errorf("commands received %v, want none", got)
			}
		})
	}
}

func TestBodyOverOneMiBIs413(t *testing.T) {
	big := `{"name":"` + strings.Repeat("가", 1<<20) + `"}` // 3 MiB of UTF-8
	cases := []struct {
		name    string
		body    string
		chunked bool // no Content-Length: the limit is found while reading
	}{
		{"declared_length_is_413", big, false},
		{"chunked_is_413", big, true},
		{"valid_object_then_whitespace_past_limit_is_413", `{}` + strings.Repeat(" ", 2<<20), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			req := httptest.NewRequest(http.MethodPost, "/api/v1/participations", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(strings.NewReader(tc.body))
			}
			wantError(t, h.send(req), 413, "PAYLOAD_TOO_LARGE")
			if got := h.cmds.commandsReceived(); len(got) != 0 {
				t.Errorf("commands received %v, want none", got)
			}
		})
	}
	t.Run("owner_body_is_413_too", func(t *testing.T) {
		h := newHTTPHarness(t)
		body := bytes.Repeat([]byte(" "), 2<<20)
		wantError(t, h.asOwner(ownerA, http.MethodPost, "/api/v1/events", bytes.NewReader(body)), 413, "PAYLOAD_TOO_LARGE")
	})
}

func TestOpenCampaignBinding(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		wantField string
	}{
		{"time_not_rfc3339_is_400", `{"title":"봄 이벤트","startsAt":"2025-05-01 10:00","endsAt":"2025-05-10T00:00:00Z","announceAt":"2025-05-11T00:00:00Z"}`, "startsAt"},
		{"time_without_zone_is_400", `{"title":"봄 이벤트","startsAt":"2025-05-01T10:00:00","endsAt":"2025-05-10T00:00:00Z","announceAt":"2025-05-11T00:00:00Z"}`, "startsAt"},
		{"missing_announce_at_is_400", `{"title":"봄 이벤트","startsAt":"2025-05-01T10:00:00Z","endsAt":"2025-05-10T00:00:00Z"}`, "announceAt"},
		{"malformed_event_id_is_400", `{"eventId":"x","title":"봄 이벤트","startsAt":"2025-05-01T10:00:00Z","endsAt":"2025-05-10T00:00:00Z","announceAt":"2025-05-11T00:00:00Z"}`, "eventId"},
		{"title_as_number_is_400", `{"title":7,"startsAt":"2025-05-01T10:00:00Z","endsAt":"2025-05-10T00:00:00Z","announceAt":"2025-05-11T00:00:00Z"}`, "title"},
		{"owner_id_in_body_is_400", `{"ownerId":"someone-else","title":"봄","startsAt":"2025-05-01T10:00:00Z","endsAt":"2025-05-10T00:00:00Z","announceAt":"2025-05-11T00:00:00Z"}`, "ownerId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			body := wantError(t, h.asOwner(ownerA, http.MethodPost, "/api/v1/events", jsonBody(tc.body)), 400, "INVALID_REQUEST")
			if !body.hasField(tc.wantField) {
				t.Errorf("errors = %+v, want one for %q", body.Errors, tc.wantField)
			}
			if got := h.cmds.commandsReceived(); len(got) != 0 {
				t.Errorf("commands received %v, want none", got)
			}
		})
	}
}

func TestDrawBinding(t *testing.T) {
	path := "/api/v1/events/" + campaignA.String() + "/draw-winners"
	cases := []struct {
		name      string
		body      string
		wantField string
	}{
		{"count_as_string_is_400", `{"winnerCount":"3"}`, "winnerCount"},
		{"count_as_fraction_is_400", `{"winnerCount":1.5}`, "winnerCount"},
		{"count_missing_is_400", `{"visitBonus":true}`, "winnerCount"},
		{"bonus_as_number_is_400", `{"winnerCount":1,"visitBonus":1}`, "visitBonus"},
		{"unknown_field_is_400", `{"winnerCount":1,"redraw":true}`, "redraw"},
		{"count_in_other_case_is_400", `{"WinnerCount":1}`, "WinnerCount"},
		{"lower_case_twin_of_count_is_400", `{"winnerCount":1,"winnercount":100}`, "winnercount"},
		{"duplicate_count_is_400", `{"winnerCount":1,"winnerCount":100}`, "winnerCount"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			body := wantError(t, h.asOwner(ownerA, http.MethodPost, path, jsonBody(tc.body)), 400, "INVALID_REQUEST")
			if !body.hasField(tc.wantField) {
				t.Errorf("errors = %+v, want one for %q", body.Errors, tc.wantField)
			}
			if got := h.cmds.commandsReceived(); len(got) != 0 {
				t.Errorf("commands received %v, want none", got)
			}
		})
	}
}

func TestMalformedPathParamsAre400(t *testing.T) {
	h := newHTTPHarness(t)
	for _, tc := range []struct{ method, path, field string }{
		{http.MethodGet, "/api/v1/events/not-a-uuid/participants", "eventId"},
		{http.MethodGet, "/api/v1/events/11111111111141118111111111111111/winners", "eventId"},
		{http.MethodPost, "/api/v1/events/not-a-uuid/draw-winners", "eventId"},
		{http.MethodPost, "/api/v1/events/" + campaignA.String() + "/participants/!!/visit", "entryNumber"},
		{http.MethodGet, "/api/v1/draw-logs/42", "drawLogId"},
		{http.MethodGet, "/api/v1/draw-logs/42/verify", "drawLogId"},
	} {
		body := wantError(t, h.asOwner(ownerA, tc.method, tc.path, nil), 400, "INVALID_REQUEST")
		if !body.hasField(tc.field) {
			t.Errorf("%s %s: errors = %+v, want one for %q", tc.method, tc.path, body.Errors, tc.field)
		}
	}
}

func TestParticipantQueryParams(t *testing.T) {
	base := "/api/v1/events/" + campaignA.String() + "/participants"
	for _, tc := range []struct{ query, field string }{
		{"size=101", "size"},
		{"size=0", "size"},
		{"page=0", "page"},
		{"page=x", "page"},
		{"winner=maybe", "winner"},
		{"entryPath=TIKTOK", "entryPath"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			h := newHTTPHarness(t)
			body := wantError(t, h.asOwner(ownerA, http.MethodGet, base+"?"+tc.query, nil), 400, "INVALID_REQUEST")
			if !body.hasField(tc.field) {
				t.Errorf("errors = %+v, want one for %q", body.Errors, tc.field)
			}
		})
	}
}
