package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
)

var (
	fixedNow  = time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	secret    = []byte("test-secret-test-secret-test-secret!")
	ownerA    = "owner-a"
	ownerB    = "owner-b"
	campaignA = uuid.MustParse("11111111-1111-4111-8111-111111111111") // owned by ownerA
)

// httpHarness is an api server over fakes, with every answer checked
// against openapi.yaml.
type httpHarness struct {
	t       *testing.T
	handler http.Handler
	spec    *apitest.Spec
	cmds    *fakeCommands
	queries *fakeQueries
	logs    *syncBuffer
}

// testBaseURL is the harness's PUBLIC_BASE_URL.
const testBaseURL = "https://events.example.test/shop"

type harnessOption func(*harnessConfig)

type harnessConfig struct {
	noQueries bool
	ready     api.Readiness
	cfg       api.Config
}

func withoutQueries() harnessOption { return func(c *harnessConfig) { c.noQueries = true } }

func withReadiness(r api.Readiness) harnessOption { return func(c *harnessConfig) { c.ready = r } }

// withConfig adjusts the server's configuration.
func withConfig(f func(*api.Config)) harnessOption { return func(c *harnessConfig) { f(&c.cfg) } }

func newHTTPHarness(t *testing.T, opts ...harnessOption) *httpHarness {
	t.Helper()
	hc := harnessConfig{cfg: api.Config{
		JWTSecret:    secret,
		Now:          func() time.Time { return fixedNow },
		SSEKeepAlive: time.Hour,
		SSECoalesce:  time.Millisecond,
		RateLimit:    api.RateLimit{Off: true}, // the rate-limit tests turn it on
		// PublicBaseURL is what share links and QR codes start with.
		PublicBaseURL: testBaseURL,
	}}
	hc.cfg.OwnerRateLimit = api.RateLimit{Off: true} // likewise
	for _, o := range opts {
		o(&hc)
	}
	h := &httpHarness{
		t:       t,
		spec:    cachedSpec(t),
		cmds:    &fakeCommands{owners: map[uuid.UUID]string{campaignA: ownerA}},
		queries: &fakeQueries{drawLogs: map[uuid.UUID]api.DrawLog{}, changes: make(chan struct{}, 1)},
		logs:    &syncBuffer{},
	}
	var queries api.Queries = h.queries
	if hc.noQueries {
		queries = nil
	}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.handler = api.NewServer(hc.cfg, h.cmds.app(), queries, hc.ready, logger)
	return h
}

var (
	specOnce   sync.Once
	loadedSpec *apitest.Spec
)

// cachedSpec loads openapi.yaml once per test binary (the fuzz targets build
// a harness per input); the spec is only read.
func cachedSpec(t *testing.T) *apitest.Spec {
	t.Helper()
	specOnce.Do(func() { loadedSpec = apitest.LoadSpec(t, api.OpenAPISpec()) })
	if loadedSpec == nil {
		t.Fatal("openapi.yaml did not load")
	}
	return loadedSpec
}

// token is a valid owner token at fixedNow.
func (h *httpHarness) token(owner string) string {
	h.t.Helper()
	tok, err := api.IssueToken(secret, owner, time.Hour, fixedNow)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// do sends one request; headers come as name, value pairs. The answer has
// been validated against the spec.
func (h *httpHarness) do(method, path string, body io.Reader, headers ...string) *http.Response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(req)
}

func (h *httpHarness) send(req *http.Request) *http.Response {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	resp := rec.Result()
	apitest.ValidateResponse(h.t, h.spec, req, resp)
	return resp
}

// asOwner sends a request with owner's token.
func (h *httpHarness) asOwner(owner, method, path string, body io.Reader, headers ...string) *http.Response {
	h.t.Helper()
	return h.do(method, path, body, append([]string{"Authorization", "Bearer " + h.token(owner)}, headers...)...)
}

func jsonBody(s string) io.Reader { return strings.NewReader(s) }

func mustJSON(t *testing.T, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Errors  []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func decode[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T: %v\nbody: %s", v, err, b)
	}
	return v
}

// wantError checks an answer's status and code.
func wantError(t *testing.T, resp *http.Response, status int, code string) errorBody {
	t.Helper()
	body := decode[errorBody](t, resp)
	if resp.StatusCode != status || body.Code != code {
		t.Fatalf("got %d %q (%s), want %d %q", resp.StatusCode, body.Code, body.Message, status, code)
	}
	return body
}

func wantStatus(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status = %d, want %d\nbody: %s", resp.StatusCode, status, b)
	}
}

func (e errorBody) hasField(field string) bool {
	for _, f := range e.Errors {
		if f.Field == field {
			return true
		}
	}
	return false
}
