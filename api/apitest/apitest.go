// Package apitest checks HTTP answers against the OpenAPI document, so every
// HTTP test — the api's unit tests and the real-database tests alike — also
// tests the contract.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func init() {
	// kin-openapi has no decoder for SSE; the stream is checked as text.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
}

// Spec is a loaded OpenAPI document with a router over its operations.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

// LoadSpec parses and validates an OpenAPI document (YAML or JSON), failing
// the test when it is not valid.
func LoadSpec(t testing.TB, data []byte) *Spec {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("apitest: load spec: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("apitest: invalid spec: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("apitest: route spec: %v", err)
	}
	return &Spec{Doc: doc, router: router}
}

// ValidateResponse fails the test unless resp, the answer to req, is one the
// spec documents: a declared status with a body and headers that match its
// schema. An answer to a path the spec does not declare (gin's 404 and 405)
// must still have the error shape. resp.Body stays readable.
func ValidateResponse(t testing.TB, spec *Spec, req *http.Request, resp *http.Response) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("apitest: read response body: %v", err)
	}
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))

	route, params, err := spec.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("apitest: %s %s is not in the spec (%v) but answered %d", req.Method, req.URL.Path, err, resp.StatusCode)
		}
		validateErrorShape(t, spec, req, resp, body)
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("apitest: %s %s → %d does not match the spec: %v\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, truncate(body))
	}
	if resp.StatusCode >= 400 {
		validateErrorShape(t, spec, req, resp, body)
	}
}

// validateErrorShape checks the one error shape of every 4xx and 5xx.
func validateErrorShape(t testing.TB, spec *Spec, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	ref := spec.Doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		t.Fatalf("apitest: the spec has no Error schema")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("apitest: %s %s → %d: body is not JSON: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, truncate(body))
		return
	}
	if err := ref.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		t.Errorf("apitest: %s %s → %d: body is not the error shape: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, truncate(body))
	}
}

func truncate(b []byte) string {
	const limit = 2000
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
