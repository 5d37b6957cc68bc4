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
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func init() {
	// kin-openapi has no decoder for SSE: ValidateResponse checks each event.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
	// nor for JSON lines: ValidateResponse checks each line.
	openapi3filter.RegisterBodyDecoder(ndjson, openapi3filter.PlainBodyDecoder)
}

// ndjson is the JSON lines media type (the draw's leaves): its spec schema
// is one line's.
const ndjson = "application/x-ndjson"

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
	if err := doc.Validate(context.Background(), openapi3.SetRegexCompiler(ECMARegex)); err != nil {
		t.Fatalf("apitest: invalid spec: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("apitest: route spec: %v", err)
	}
	return &Spec{Doc: doc, router: router}
}

// ECMARegex compiles the spec's patterns, which are ECMA-262 (as JSON
// Schema says) and use lookaheads that Go's regexp lacks. RE2 mode keeps `$`
// at the very end of the text, as in ECMA-262 without the m flag.
func ECMARegex(expr string) (openapi3.RegexMatcher, error) {
	re, err := regexp2.Compile(expr, regexp2.RE2)
	if err != nil {
		return nil, err
	}
	return ecmaMatcher{re}, nil
}

type ecmaMatcher struct{ re *regexp2.Regexp }

func (m ecmaMatcher) MatchString(s string) bool {
	ok, err := m.re.MatchString(s)
	return ok && err == nil
}

// RequestSchema is the JSON schema of an operation's request body.
func (s *Spec) RequestSchema(t testing.TB, method, path string) *openapi3.Schema {
	t.Helper()
	op := s.Doc.Paths.Find(path)
	if op == nil || op.GetOperation(method) == nil || op.GetOperation(method).RequestBody == nil {
		t.Fatalf("apitest: no request body for %s %s in the spec", method, path)
	}
	mt := op.GetOperation(method).RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		t.Fatalf("apitest: no JSON request schema for %s %s", method, path)
	}
	return mt.Schema.Value
}

// Accepts says whether the spec's schema accepts the JSON value v, with the
// patterns read as ECMA-262; the error names what it rejects.
func Accepts(schema *openapi3.Schema, v any) error {
	return schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.SetSchemaRegexCompiler(ECMARegex))
}

// ValidateRequest says whether the spec accepts req — path, query and body —
// with the patterns read as ECMA-262; security is left to the server. The
// request body is read and replaced.
func ValidateRequest(spec *Spec, req *http.Request) error {
	route, params, err := spec.router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
			MultiError:              true,
			RegexCompiler:           ECMARegex,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.SetSchemaRegexCompiler(ECMARegex)},
		},
	})
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
			IncludeResponseStatus:   true,
			MultiError:              true,
			RegexCompiler:           ECMARegex,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.SetSchemaRegexCompiler(ECMARegex)},
		},
	}
	sse := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	lines := strings.HasPrefix(resp.Header.Get("Content-Type"), ndjson)
	input.Options.ExcludeResponseBody = sse || lines
	if sse {
		validateEvents(t, route, resp.StatusCode, body)
	}
	if lines {
		validateLines(t, route, resp.StatusCode, body)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("apitest: %s %s → %d does not match the spec: %v\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, truncate(body))
	}
	if resp.StatusCode >= 400 {
		validateErrorShape(t, spec, req, resp, body)
	}
}

// validateEvents checks each Server-Sent Event, read as an object of its
// fields (event, data, id, retry) as schemathesis reads it, against the
// schema the spec gives text/event-stream (one event, as OpenAPI 3.0 has it).
func validateEvents(t testing.TB, route *routers.Route, status int, body []byte) {
	t.Helper()
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil || ref.Value.Content.Get("text/event-stream") == nil {
		t.Errorf("apitest: %s → %d: no text/event-stream answer in the spec", route.Path, status)
		return
	}
	schema := ref.Value.Content.Get("text/event-stream").Schema.Value
	for i, block := range strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n\n") {
		event := map[string]any{}
		var data []string
		for _, line := range strings.Split(block, "\n") {
			if line == "" || strings.HasPrefix(line, ":") {
				continue // a comment: the keep-alive
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			if field == "data" {
				data = append(data, value)
				continue
			}
			event[field] = value
		}
		if len(event) == 0 && data == nil {
			continue
		}
		if data != nil {
			event["data"] = strings.Join(data, "\n")
		}
		if err := schema.VisitJSON(event, openapi3.MultiErrors(), openapi3.SetSchemaRegexCompiler(ECMARegex)); err != nil {
			t.Errorf("apitest: %s → %d: event %d does not match the spec: %v\n%s", route.Path, status, i, err, block)
		}
	}
}

// validateLines checks each line of a JSON lines answer against the schema
// the spec gives application/x-ndjson (one line's).
func validateLines(t testing.TB, route *routers.Route, status int, body []byte) {
	t.Helper()
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil || ref.Value.Content.Get(ndjson) == nil {
		t.Errorf("apitest: %s → %d: no %s answer in the spec", route.Path, status, ndjson)
		return
	}
	schema := ref.Value.Content.Get(ndjson).Schema.Value
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		if len(body) == 0 {
			break
		}
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			t.Errorf("apitest: %s → %d: line %d is not JSON: %v", route.Path, status, i+1, err)
			continue
		}
		if err := schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.SetSchemaRegexCompiler(ECMARegex)); err != nil {
			t.Errorf("apitest: %s → %d: line %d does not match the spec: %v\n%s", route.Path, status, i+1, err, line)
		}
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
