package apitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
)

// recordingTB keeps the failures instead of failing the test.
type recordingTB struct {
	testing.TB
	failures []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func answer(status int, contentType, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}},
		Body: io.NopCloser(strings.NewReader(body))}
}

func TestValidateResponseCatchesDrift(t *testing.T) {
	spec := apitest.LoadSpec(t, api.OpenAPISpec())
	reg := httptest.NewRequest(http.MethodPost, "/api/v1/participations", nil)
	cases := []struct {
		name   string
		req    *http.Request
		resp   *http.Response
		wantOK bool
	}{
		{"documented_201", reg, answer(201, "application/json", `{"participantId":"11111111-1111-4111-8111-111111111111","entryNumber":"ABCD-2345","announceAt":"2025-05-01T00:00:00Z","message":"참여해주셔서 감사합니다"}`), true},
		{"missing_field", reg, answer(201, "application/json", `{"participantId":"11111111-1111-4111-8111-111111111111","entryNumber":"ABCD-2345","message":"x"}`), false},
		{"extra_field", reg, answer(201, "application/json", `{"participantId":"11111111-1111-4111-8111-111111111111","entryNumber":"ABCD-2345","announceAt":"2025-05-01T00:00:00Z","message":"x","phone":"010-1234-5678"}`), false},
		{"undocumented_status", reg, answer(418, "application/json", `{"code":"INTERNAL","message":"x"}`), false},
		{"error_with_unknown_code", reg, answer(409, "application/json", `{"code":"DUPLICATE","message":"x"}`), false},
		{"error_as_text", reg, answer(500, "text/plain", `panic: boom`), false},
		{"unrouted_404_with_shape", httptest.NewRequest(http.MethodGet, "/nope", nil), answer(404, "application/json", `{"code":"NOT_FOUND","message":"x"}`), true},
		{"unrouted_404_without_shape", httptest.NewRequest(http.MethodGet, "/nope", nil), answer(404, "text/plain", `404 page not found`), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			apitest.ValidateResponse(rec, spec, tc.req, tc.resp)
			if ok := len(rec.failures) == 0; ok != tc.wantOK {
				t.Errorf("valid = %v, want %v; failures: %v", ok, tc.wantOK, rec.failures)
			}
			if b, _ := io.ReadAll(tc.resp.Body); len(b) == 0 {
				t.Error("the body is no longer readable")
			}
		})
	}
}
