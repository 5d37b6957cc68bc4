package api_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSpecLinksReachEveryOperation keeps the spec fit for a stateful fuzzer:
// every link names an existing operation and only its parameters, and every
// operation that needs an id in its path is the target of a link from an
// operation that creates or returns that id. A route added without links
// fails here.
func TestSpecLinksReachEveryOperation(t *testing.T) {
	doc := cachedSpec(t).Doc
	ops := map[string]*openapi3.Operation{}
	paths := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[op.OperationID] = op
			paths[op.OperationID] = method + " " + path
		}
	}
	linked := map[string]bool{}
	for id, op := range ops {
		for status, resp := range op.Responses.Map() {
			for name, link := range resp.Value.Links {
				target, ok := ops[link.Value.OperationID]
				if !ok {
					t.Errorf("%s → %s link %s: no operation %q", id, status, name, link.Value.OperationID)
					continue
				}
				linked[link.Value.OperationID] = true
				for param := range link.Value.Parameters {
					if !hasParam(target, param) {
						t.Errorf("%s → %s link %s: %s has no parameter %q", id, status, name, link.Value.OperationID, param)
					}
				}
				if link.Value.RequestBody != nil && target.RequestBody == nil {
					t.Errorf("%s → %s link %s: %s takes no body", id, status, name, link.Value.OperationID)
				}
			}
		}
	}
	var unreachable []string
	for id, op := range ops {
		if needsPathID(op) && !linked[id] {
			unreachable = append(unreachable, paths[id])
		}
	}
	sort.Strings(unreachable)
	if len(unreachable) > 0 {
		t.Errorf("operations with ids in their path that no link reaches:\n  %s", strings.Join(unreachable, "\n  "))
	}
	// The flows the contract names: an opened campaign's eventId, a
	// registration's entryNumber, a draw's drawLogId.
	for _, want := range []struct{ from, status, to string }{
		{"openCampaign", "201", "registerParticipant"},
		{"registerParticipant", "201", "recordStoreVisit"},
		{"drawWinners", "200", "getDrawLog"},
		{"drawWinners", "200", "verifyDraw"},
	} {
		if !linksTo(ops[want.from], want.status, want.to) {
			t.Errorf("no link %s %s → %s", want.from, want.status, want.to)
		}
	}
}

func hasParam(op *openapi3.Operation, name string) bool {
	name = name[strings.LastIndexByte(name, '.')+1:] // "path.eventId" names its location
	for _, p := range op.Parameters {
		if p.Value.Name == name {
			return true
		}
	}
	return false
}

func needsPathID(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value.In == openapi3.ParameterInPath {
			return true
		}
	}
	return op.RequestBody != nil && op.OperationID == "registerParticipant"
}

func linksTo(op *openapi3.Operation, status, target string) bool {
	if op == nil || op.Responses.Value(status) == nil {
		return false
	}
	for _, l := range op.Responses.Value(status).Value.Links {
		if l.Value.OperationID == target {
			return true
		}
	}
	return false
}
