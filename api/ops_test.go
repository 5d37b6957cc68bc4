package api_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shopevents/participation/api"
)

func TestHealthAndReadiness(t *testing.T) {
	h := newHTTPHarness(t, withReadiness(fakeReadiness{}))
	wantStatus(t, h.do(http.MethodGet, "/healthz", nil), 200)
	wantStatus(t, h.do(http.MethodGet, "/readyz", nil), 200)

	down := newHTTPHarness(t, withReadiness(fakeReadiness{err: errors.New("migrations pending: 3")}))
	wantStatus(t, down.do(http.MethodGet, "/healthz", nil), 200)
	body := wantError(t, down.do(http.MethodGet, "/readyz", nil), 503, "UNAVAILABLE")
	if strings.Contains(body.Message, "migrations") {
		t.Errorf("message leaks the cause: %q", body.Message)
	}
	if !strings.Contains(down.logs.String(), "migrations pending") {
		t.Errorf("the cause is not logged:\n%s", down.logs.String())
	}
}

func TestMetricsRecordRequestLatencyByRoute(t *testing.T) {
	registry := prometheus.NewRegistry()
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.Registry = registry }))
	wantStatus(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/winners", nil), 200)
	// The metrics are served on METRICS_ADDR, never on the API's port.
	wantError(t, h.do(http.MethodGet, "/metrics", nil), 404, "NOT_FOUND")
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	want := `http_request_duration_seconds_count{method="GET",route="/api/v1/events/:eventId/winners",status="200"} 1`
	if !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s:\n%.2000s", want, body)
	}
	if strings.Contains(string(body), campaignA.String()) {
		t.Error("a metric label carries a raw path")
	}
}

func TestOpenAPIJSONIsTheSpec(t *testing.T) {
	h := newHTTPHarness(t)
	resp := h.do(http.MethodGet, "/openapi.json", nil)
	wantStatus(t, resp, 200)
	body, _ := io.ReadAll(resp.Body)
	if !json.Valid(body) {
		t.Fatal("not JSON")
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"/api/v1/participations", "/api/v1/events", "/api/v1/events/{eventId}/participants",
		"/api/v1/events/{eventId}/participants.csv", "/api/v1/events/{eventId}/participants/{entryNumber}/visit",
		"/api/v1/events/{eventId}/draw-winners", "/api/v1/events/{eventId}/winners", "/api/v1/events/{eventId}/draw-logs",
		"/api/v1/draw-logs/{drawLogId}", "/api/v1/draw-logs/{drawLogId}/verify", "/api/v1/events/{eventId}/analytics",
		"/api/v1/events/{eventId}/analytics/stream", "/healthz", "/readyz", "/openapi.json",
	} {
		if doc.Paths.Value(p) == nil {
			t.Errorf("spec lacks %s", p)
		}
	}
	if doc.Components.SecuritySchemes["bearerAuth"] == nil {
		t.Error("spec lacks the bearerAuth scheme")
	}
}

// TestEveryErrorAnswerIsDocumented walks the spec: every 4xx/5xx response
// of every operation uses the Error schema, but the pages' (a browser shows
// their HTML, which says what went wrong) other than the rate limit's.
func TestEveryErrorAnswerIsDocumented(t *testing.T) {
	h := newHTTPHarness(t)
	for path, item := range h.spec.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, ref := range op.Responses.Map() {
				if status[0] != '4' && status[0] != '5' {
					continue
				}
				// The per-IP limiter answers a page's flood before the page:
				// its 429 is the Error shape everywhere.
				if slices.Contains(op.Tags, "pages") && status != "429" {
					if ref.Value.Content.Get("text/html") == nil {
						t.Errorf("%s %s %s: a page's error answer is not its HTML page", method, path, status)
					}
					continue
				}
				mt := ref.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Error" {
					t.Errorf("%s %s %s: not the Error schema", method, path, status)
				}
			}
		}
	}
}
