package api_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// notLinkTargets are the operations no link needs to reach, each with why:
// a stateful fuzzer starts from them, since they take no id another answer
// would supply.
var notLinkTargets = map[string]string{
	"openCampaign":   "creates the campaign every flow starts from; its eventId is the fuzzer's to choose",
	"listCampaigns":  "takes no id: the owner's own campaigns, the other flows' second start",
	"ownerDashboard": "a static page without parameters",
	"healthz":        "no input",
	"readyz":         "no input",
	"openapi":        "no input",
}

// TestSpecLinksReachEveryOperation keeps the spec fit for a stateful fuzzer:
// every link names an existing operation and only its parameters, and every
// operation is the target of a link from one that creates or returns what it
// needs, or is in notLinkTargets with the reason. A route added without links
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
				} else if fields, ok := link.Value.RequestBody.(map[string]any); ok {
					for field := range fields {
						if !hasBodyField(target, field) {
							t.Errorf("%s → %s link %s: %s's body has no field %q", id, status, name, link.Value.OperationID, field)
						}
					}
				}
			}
		}
	}
	var unreachable []string
	for id := range ops {
		_, exempt := notLinkTargets[id]
		switch {
		case linked[id] && exempt:
			t.Errorf("%s is a link target and listed in notLinkTargets: drop it from the list", paths[id])
		case !linked[id] && !exempt:
			unreachable = append(unreachable, paths[id])
		}
	}
	for id := range notLinkTargets {
		if ops[id] == nil {
			t.Errorf("notLinkTargets names %q, which is no operation", id)
		}
	}
	sort.Strings(unreachable)
	if len(unreachable) > 0 {
		t.Errorf("operations that no link reaches (link them, or say why in notLinkTargets):\n  %s", strings.Join(unreachable, "\n  "))
	}
	// The flows the contract names: an opened campaign's eventId, a
	// registration's entryNumber, a draw's drawLogId.
	for _, want := range []struct{ from, status, to string }{
		{"openCampaign", "201", "registerParticipant"},
		{"registerParticipant", "201", "recordStoreVisit"},
		{"registerParticipant", "201", "eraseMyData"},
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

func hasBodyField(op *openapi3.Operation, field string) bool {
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return false
	}
	_, ok := media.Schema.Value.Properties[field]
	return ok
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
