package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPISpec returns the embedded OpenAPI 3 document (YAML), the contract
// the handlers follow and the tests validate every response against.
func OpenAPISpec() []byte {
	return append([]byte(nil), openAPIYAML...)
}

// openAPIJSON is the document as served at /openapi.json, converted once.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	// The patterns are ECMA-262 with lookaheads, which Go's regexp lacks;
	// the tests check them (apitest.LoadSpec compiles them as ECMA-262).
	if err := doc.Validate(context.Background(), openapi3.DisableSchemaPatternValidation(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("marshal openapi.yaml: %w", err)
	}
	return b, nil
})
