package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

const validRegistration = `{"eventId":"11111111-1111-4111-8111-111111111111","name":"김민수","phone":"010-1234-5678","entryPath":"instagram","privacyConsent":true}`

// endpointCall sends the request of one command endpoint; every command fake
// answers with err.
type endpointCall func(h *httpHarness) *http.Response

var (
	callRegister endpointCall = func(h *httpHarness) *http.Response {
		return h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration))
	}
	callOpen endpointCall = func(h *httpHarness) *http.Response {
		return h.asOwner(ownerA, http.MethodPost, "/api/v1/events", jsonBody(`{"title":"봄","startsAt":"2025-05-01T10:00:00+09:00","endsAt":"2025-05-10T00:00:00Z","announceAt":"2025-05-11T00:00:00Z"}`))
	}
	callVisit endpointCall = func(h *httpHarness) *http.Response {
		return h.asOwner(ownerA, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/participants/ABCD-2345/visit", nil)
	}
	callDraw endpointCall = func(h *httpHarness) *http.Response {
		return h.asOwner(ownerA, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/draw-winners", jsonBody(`{"winnerCount":3,"visitBonus":true}`))
	}
	everyCommand = map[string]endpointCall{"register": callRegister, "open": callOpen, "visit": callVisit, "draw": callDraw}
)

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err        error
		endpoints  map[string]endpointCall
		wantStatus int
		wantCode   string
	}{
		{&domain.ValidationError{Fields: []domain.FieldError{{Field: "phone", Reason: "bad"}}}, everyCommand, 400, "INVALID_REQUEST"},
		{fmt.Errorf("register: %w", domain.ErrInvalid), everyCommand, 400, "INVALID_REQUEST"},
		{fmt.Errorf("register: %w", domain.ErrCampaignNotFound), map[string]endpointCall{"register": callRegister, "visit": callVisit, "draw": callDraw}, 404, "EVENT_NOT_FOUND"},
		{fmt.Errorf("visit: %w", domain.ErrParticipantNotFound), map[string]endpointCall{"visit": callVisit}, 404, "PARTICIPANT_NOT_FOUND"},
		{fmt.Errorf("register: %w", domain.ErrAlreadyParticipated), map[string]endpointCall{"register": callRegister}, 409, "ALREADY_PARTICIPATED"},
		{fmt.Errorf("register: %w", domain.ErrEventNotOpen), map[string]endpointCall{"register": callRegister}, 409, "EVENT_NOT_OPEN"},
		{fmt.Errorf("open: %w", domain.ErrCampaignExists), map[string]endpointCall{"open": callOpen}, 409, "EVENT_EXISTS"},
		{fmt.Errorf("draw: %w", domain.ErrAlreadyDrawn), map[string]endpointCall{"draw": callDraw}, 409, "ALREADY_DRAWN"},
		{fmt.Errorf("draw: %w", domain.ErrInvalidWinnerCount), map[string]endpointCall{"draw": callDraw}, 422, "INVALID_WINNER_COUNT"},
		{fmt.Errorf("draw: %w", domain.ErrNotOwner), map[string]endpointCall{"visit": callVisit, "draw": callDraw}, 403, "FORBIDDEN"},
		{errors.New(`ERROR: duplicate key value violates unique constraint "events_pkey" (SQLSTATE 23505)`), everyCommand, 500, "INTERNAL"},
	}
	for _, tc := range cases {
		for name, call := range tc.endpoints {
			t.Run(tc.wantCode+"_from_"+name, func(t *testing.T) {
				h := newHTTPHarness(t)
				h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
					return commands.Registration{}, tc.err
				}
				h.cmds.openFn = func(commands.OpenCampaign) (domain.CampaignOpened, error) { return domain.CampaignOpened{}, tc.err }
				h.cmds.visitFn = func(commands.RecordStoreVisit) error { return tc.err }
				h.cmds.drawFn = func(commands.DrawWinners) (commands.DrawOutcome, error) { return commands.DrawOutcome{}, tc.err }
				body := wantError(t, call(h), tc.wantStatus, tc.wantCode)
				if tc.wantStatus == 500 && (strings.Contains(body.Message, "SQLSTATE") || strings.Contains(body.Message, "duplicate")) {
					t.Errorf("500 message leaks the error: %q", body.Message)
				}
				if len(h.cmds.commandsReceived()) != 1 {
					t.Errorf("commands received %v, want one", h.cmds.commandsReceived())
				}
			})
		}
	}
}

func TestAlreadyParticipatedMessage(t *testing.T) {
	h := newHTTPHarness(t)
	h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
		return commands.Registration{}, domain.ErrAlreadyParticipated
	}
	body := wantError(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration)), 409, "ALREADY_PARTICIPATED")
	if body.Message != "이미 참여하신 이벤트입니다" {
		t.Errorf("message = %q", body.Message)
	}
}

func TestValidationErrorFieldsReachTheClient(t *testing.T) {
	h := newHTTPHarness(t)
	h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
		return commands.Registration{}, &domain.ValidationError{Fields: []domain.FieldError{
			{Field: "name", Reason: "The name must be 2–50 characters."},
			{Field: "phone", Reason: "The phone must be 010 plus 8 digits."},
		}}
	}
	body := wantError(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration)), 400, "INVALID_REQUEST")
	if !body.hasField("name") || !body.hasField("phone") || len(body.Errors) != 2 {
		t.Errorf("errors = %+v, want name and phone", body.Errors)
	}
}

func TestInternalErrorIsLoggedWithCorrelationIDButNotEchoed(t *testing.T) {
	h := newHTTPHarness(t)
	h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
		return commands.Registration{}, errors.New("dial tcp 10.0.0.5:5432: connection refused")
	}
	resp := h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration), "X-Correlation-ID", "corr-500")
	body := wantError(t, resp, 500, "INTERNAL")
	if strings.Contains(body.Message, "5432") {
		t.Errorf("message leaks the error: %q", body.Message)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "connection refused") || !strings.Contains(logs, `"correlation_id":"corr-500"`) {
		t.Errorf("logs lack the error with its correlation id:\n%s", logs)
	}
}

func TestPanicIs500WithoutStack(t *testing.T) {
	h := newHTTPHarness(t)
	h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
		var m map[string]int
		m["boom"]++ // a nil map write: a real runtime panic
		return commands.Registration{}, nil
	}
	resp := h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration))
	body := wantError(t, resp, 500, "INTERNAL")
	if strings.Contains(body.Message, "goroutine") || strings.Contains(body.Message, "nil map") {
		t.Errorf("message leaks the panic: %q", body.Message)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `"msg":"panic"`) || !strings.Contains(logs, "goroutine") {
		t.Errorf("the panic and its stack are not logged:\n%s", logs)
	}
	// The server keeps serving.
	h.cmds.registerFn = nil
	wantStatus(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration)), 201)
}

func TestUnknownRouteAndMethodHaveTheErrorShape(t *testing.T) {
	h := newHTTPHarness(t)
	wantError(t, h.do(http.MethodGet, "/api/v1/nope", nil), 404, "NOT_FOUND")
	wantError(t, h.do(http.MethodGet, "/api/v1/participations/", nil), 404, "NOT_FOUND")
	wantError(t, h.do(http.MethodGet, "/api/v1/participations", nil), 405, "METHOD_NOT_ALLOWED")
	wantError(t, h.do(http.MethodDelete, "/healthz", nil), 405, "METHOD_NOT_ALLOWED")
}

func TestWithoutQueriesReadRoutesAre503(t *testing.T) {
	h := newHTTPHarness(t, withoutQueries())
	event := "/api/v1/events/" + campaignA.String()
	for _, p := range []string{event + "/participants", event + "/participants.csv", event + "/winners", event + "/draw-logs",
		event + "/analytics", event + "/analytics/stream", "/api/v1/draw-logs/33333333-3333-4333-8333-333333333333"} {
		wantError(t, h.asOwner(ownerA, http.MethodGet, p, nil), 503, "UNAVAILABLE")
	}
	// Verification reads the event store, not the read models.
	wantError(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/draw-logs/33333333-3333-4333-8333-333333333333/verify", nil), 404, "DRAW_LOG_NOT_FOUND")
	// The command side still works.
	wantStatus(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration)), 201)
}
