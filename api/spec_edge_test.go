package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestSpecDocumentsTheEdgeAnswers: every API operation that may carry a
// body (POST, DELETE) documents the 415 of a body that is not JSON, and every
// owner operation the 429 of the per-owner limit, so a fuzzer sending other
// content types or many requests meets only documented answers. A route
// added without them fails here.
func TestSpecDocumentsTheEdgeAnswers(t *testing.T) {
	doc := cachedSpec(t).Doc
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method, op := range item.Operations() {
			owner := op.Security != nil && len(*op.Security) > 0
			if (method == http.MethodPost || method == http.MethodDelete) && op.Responses.Value("415") == nil {
				t.Errorf("%s %s (%s) does not document 415", method, path, op.OperationID)
			}
			if owner && op.Responses.Value("429") == nil {
				t.Errorf("%s %s (%s), an owner operation, does not document 429", method, path, op.OperationID)
			}
		}
	}
}
