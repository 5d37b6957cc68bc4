package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

func TestRegistrationIs201WithThanks(t *testing.T) {
	h := newHTTPHarness(t)
	pid := uuid.New()
	announce := time.Date(2025, 5, 20, 12, 0, 0, 0, time.UTC)
	h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
		return commands.Registration{ParticipantID: pid, EntryNumber: "ABCD-2345", AnnounceAt: announce}, nil
	}
	resp := h.do(http.MethodPost, "/api/v1/participations", jsonBody(validRegistration), "X-Correlation-ID", "corr-201")
	wantStatus(t, resp, http.StatusCreated)
	got := decode[map[string]any](t, resp)
	want := map[string]any{"participantId": pid.String(), "entryNumber": "ABCD-2345",
		"announceAt": "2025-05-20T12:00:00Z", "message": "참여해주셔서 감사합니다"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	wantCmd := commands.RegisterParticipant{EventID: campaignA, Name: "김민수", Phone: "010-1234-5678",
		EntryPath: "instagram", PrivacyConsent: true, Meta: commands.Meta{CorrelationID: "corr-201", Actor: "customer"}}
	if diff := cmp.Diff([]any{wantCmd}, h.cmds.commandsReceived()); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	if logs := h.logs.String(); strings.Contains(logs, "김민수") || strings.Contains(logs, "1234-5678") {
		t.Errorf("logs carry personal data:\n%s", logs)
	}
}

func TestCorrelationID(t *testing.T) {
	h := newHTTPHarness(t)
	t.Run("given_id_is_echoed_and_logged", func(t *testing.T) {
		h.t = t
		resp := h.do(http.MethodGet, "/healthz", nil, "X-Correlation-ID", "abc-123")
		if got := resp.Header.Get("X-Correlation-ID"); got != "abc-123" {
			t.Errorf("echoed %q", got)
		}
		if !strings.Contains(h.logs.String(), `"correlation_id":"abc-123"`) {
			t.Errorf("request line lacks the correlation id:\n%s", h.logs.String())
		}
	})
	t.Run("missing_id_is_generated", func(t *testing.T) {
		h.t = t
		resp := h.do(http.MethodGet, "/healthz", nil)
		if _, err := uuid.Parse(resp.Header.Get("X-Correlation-ID")); err != nil {
			t.Errorf("generated id %q: %v", resp.Header.Get("X-Correlation-ID"), err)
		}
	})
	t.Run("unsafe_id_is_replaced", func(t *testing.T) {
		h.t = t
		resp := h.do(http.MethodGet, "/healthz", nil, "X-Correlation-ID", "a b\"c")
		if got := resp.Header.Get("X-Correlation-ID"); got == "a b\"c" || got == "" {
			t.Errorf("echoed %q", got)
		}
	})
	t.Run("owner_id_and_correlation_id_reach_the_command", func(t *testing.T) {
		h.t = t
		resp := h.asOwner(ownerA, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/participants/abcd2345/visit", nil, "X-Correlation-ID", "corr-visit")
		wantStatus(t, resp, 200)
		got := h.cmds.commandsReceived()
		want := commands.RecordStoreVisit{EventID: campaignA, EntryNumber: "ABCD-2345", OwnerID: ownerA,
			Meta: commands.Meta{CorrelationID: "corr-visit", Actor: ownerA}}
		if diff := cmp.Diff(want, got[len(got)-1]); diff != "" {
			t.Errorf("command (-want +got):\n%s", diff)
		}
	})
}

func TestOpenCampaignIs201(t *testing.T) {
	h := newHTTPHarness(t)
	id := uuid.New()
	resp := h.asOwner(ownerA, http.MethodPost, "/api/v1/events", mustJSON(t, map[string]any{
		"eventId": id, "title": "봄맞이 이벤트", "startsAt": "2025-05-01T10:00:00+09:00",
		"endsAt": "2025-05-10T00:00:00+09:00", "announceAt": "2025-05-11T00:00:00+09:00",
	}))
	wantStatus(t, resp, http.StatusCreated)
	got := decode[map[string]any](t, resp)
	if got["eventId"] != id.String() || got["ownerId"] != ownerA || got["title"] != "봄맞이 이벤트" {
		t.Errorf("body = %v", got)
	}
	cmd := h.cmds.commandsReceived()[0].(commands.OpenCampaign)
	if cmd.OwnerID != ownerA || !cmd.StartsAt.Equal(time.Date(2025, 5, 1, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("command = %+v", cmd)
	}
}

func TestStoreVisitIs200(t *testing.T) {
	h := newHTTPHarness(t)
	resp := h.asOwner(ownerA, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/participants/ABCD-2345/visit", nil)
	wantStatus(t, resp, 200)
	got := decode[map[string]any](t, resp)
	want := map[string]any{"eventId": campaignA.String(), "entryNumber": "ABCD-2345", "storeVisited": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

// The draw's answer shows the winners as the command masked them
// (privacy.Mask, the read models' masking), winners and alternates alike.
func TestDrawAnswersTheMaskedWinners(t *testing.T) {
	h := newHTTPHarness(t)
	drawID, p1, p2, p3 := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	h.cmds.drawFn = func(cmd commands.DrawWinners) (commands.DrawOutcome, error) {
		return commands.DrawOutcome{DrawID: drawID, Winners: []commands.DrawnWinner{
			{ParticipantID: p1, EntryNumber: "ABCD-2345", Name: "김**", Phone: "010-****-5678", Rank: 1},
			{ParticipantID: p2, EntryNumber: "EFGH-6789", Name: "이*", Phone: "010-****-4321", Rank: 2},
		}, Alternates: []commands.DrawnWinner{
			{ParticipantID: p3, EntryNumber: "JKLM-2345", Name: "박**", Phone: "010-****-6666", Rank: 1},
		}}, nil
	}
	resp := h.asOwner(ownerA, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/draw-winners",
		jsonBody(`{"winnerCount":2,"alternateCount":1,"visitBonus":true,"visitBonusWeight":3}`))
	wantStatus(t, resp, 200)
	body, _ := io.ReadAll(resp.Body)
	for _, masked := range []string{`"김**"`, `"010-****-5678"`, `"이*"`, `"010-****-4321"`, `"drawLogId":"` + drawID.String() + `"`,
		`"alternates":[{"participantId":"` + p3.String() + `","entryNumber":"JKLM-2345","name":"박**","phone":"010-****-6666","rank":1}]`} {
		if !strings.Contains(string(body), masked) {
			t.Errorf("answer lacks %s: %s", masked, body)
		}
	}
	want := commands.DrawWinners{EventID: campaignA, OwnerID: ownerA, WinnerCount: 2, AlternateCount: 1, VisitBonus: true, VisitBonusWeight: 3,
		Meta: commands.Meta{CorrelationID: resp.Header.Get("X-Correlation-ID"), Actor: ownerA}}
	if diff := cmp.Diff([]any{want}, h.cmds.commandsReceived()); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
}

func TestDrawAlternateCountBounds(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       int // the command's AlternateCount when it ran
	}{
		{"absent_is_zero", `{"winnerCount":1}`, 200, 0},
		{"null_is_zero", `{"winnerCount":1,"alternateCount":null}`, 200, 0},
		{"three", `{"winnerCount":1,"alternateCount":3}`, 200, 3},
		{"negative_is_400", `{"winnerCount":1,"alternateCount":-1}`, 400, 0},
		{"above_the_bound_is_400", `{"winnerCount":1,"alternateCount":10000001}`, 400, 0},
		{"a_string_is_400", `{"winnerCount":1,"alternateCount":"2"}`, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHTTPHarness(t)
			var got *commands.DrawWinners
			h.cmds.drawFn = func(cmd commands.DrawWinners) (commands.DrawOutcome, error) {
				got = &cmd
				return commands.DrawOutcome{DrawID: uuid.New()}, nil
			}
			resp := h.asOwner(ownerA, http.MethodPost, "/api/v1/events/"+campaignA.String()+"/draw-winners", jsonBody(tt.body))
			wantStatus(t, resp, tt.status)
			if tt.status == 200 && (got == nil || got.AlternateCount != tt.want) {
				t.Errorf("command = %+v, want alternateCount %d", got, tt.want)
			}
			if tt.status != 200 && got != nil {
				t.Errorf("the command ran: %+v", got)
			}
		})
	}
}

func TestParticipantsPageIsMaskedAndFiltered(t *testing.T) {
	h := newHTTPHarness(t)
	at := time.Date(2025, 5, 1, 3, 4, 5, 0, time.UTC)
	// the read model holds masked values; the api passes them on
	h.queries.participants = []api.ParticipantRow{{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", Name: "김**",
		Phone: "010-****-5678", EntryPath: "INSTAGRAM", ParticipatedAt: at, StoreVisited: true, Winner: false}}
	h.queries.total = 41
	resp := h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/participants?page=3&size=20&entryPath=instagram&winner=false", nil)
	wantStatus(t, resp, 200)
	got := decode[map[string]any](t, resp)
	p := got["participants"].([]any)[0].(map[string]any)
	if p["name"] != "김**" || p["phone"] != "010-****-5678" || got["totalCount"] != 41.0 || got["page"] != 3.0 || got["size"] != 20.0 {
		t.Errorf("body = %v", got)
	}
	no := false
	want := api.ParticipantFilter{EntryPath: "INSTAGRAM", Winner: &no, Page: 3, Size: 20}
	if diff := cmp.Diff([]api.ParticipantFilter{want}, h.queries.filters); diff != "" {
		t.Errorf("filter (-want +got):\n%s", diff)
	}
	h.queries.filters = nil
	wantStatus(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/participants", nil), 200)
	if diff := cmp.Diff([]api.ParticipantFilter{{Page: 1, Size: 20}}, h.queries.filters); diff != "" {
		t.Errorf("default filter (-want +got):\n%s", diff)
	}
}

func TestParticipantsCSV(t *testing.T) {
	h := newHTTPHarness(t)
	h.queries.participants = []api.ParticipantRow{
		{EntryNumber: "ABCD-2345", Name: "김**", Phone: "010-****-5678", EntryPath: "KAKAO",
			ParticipatedAt: time.Date(2025, 5, 1, 3, 0, 0, 0, time.UTC), StoreVisited: true, Winner: true},
		{EntryNumber: "EFGH-6789", Name: "=L*****", Phone: "010-****-3333", EntryPath: "STORE_QR",
			ParticipatedAt: time.Date(2025, 5, 1, 15, 30, 0, 0, time.UTC)},
		{EntryNumber: "JKLM-2345", EntryPath: "KAKAO", ParticipatedAt: time.Date(2025, 5, 1, 16, 0, 0, 0, time.UTC), Erased: true},
	}
	resp := h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/participants.csv", nil)
	wantStatus(t, resp, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	want := "\uFEFF" +
		"entryNumber,name,phone,entryPath,participatedAt,storeVisited,winner,erased\n" +
		"ABCD-2345,김**,010-****-5678,KAKAO,2025-05-01T12:00:00+09:00,true,true,false\n" +
		"EFGH-6789,'=L*****,010-****-3333,STORE_QR,2025-05-02T00:30:00+09:00,false,false,false\n" +
		"JKLM-2345,,,KAKAO,2025-05-02T01:00:00+09:00,false,false,true\n"
	if diff := cmp.Diff(want, string(body)); diff != "" {
		t.Errorf("csv (-want +got):\n%s", diff)
	}
}

func TestParticipantsCSVFailureBeforeFirstByteIs500JSON(t *testing.T) {
	h := newHTTPHarness(t)
	h.queries.err = context.DeadlineExceeded
	wantError(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/participants.csv", nil), 503, "UNAVAILABLE")
	h.queries.err = io.ErrUnexpectedEOF
	resp := h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/participants.csv", nil)
	wantError(t, resp, 500, "INTERNAL")
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		t.Errorf("an error answer is still an attachment: %q", cd)
	}
}

func TestWinnersAndDrawLogs(t *testing.T) {
	h := newHTTPHarness(t)
	drawID, pid := uuid.New(), uuid.New()
	alt := uuid.New()
	h.queries.winners = []api.WinnerRow{{ParticipantID: pid, EntryNumber: "ABCD-2345", Name: "김**", Phone: "010-****-5678", Rank: 1, Kind: "WINNER"},
		{ParticipantID: alt, EntryNumber: "ABCD-2346", Name: "이*", Phone: "010-****-5679", Rank: 1, Kind: api.AlternateKind}}
	h.queries.drawLogs[drawID] = api.DrawLog{State: "DRAWN", WinnersDrawn: domain.WinnersDrawn{DrawID: drawID, EventID: campaignA, WinnerCount: 1, VisitBonus: true,
		VisitBonusWeight: 2, Algorithm: "chacha8-fisher-yates/v1", Seed: strings.Repeat("ab", 32), CandidateCount: 10,
		CandidatesDigest: strings.Repeat("cd", 32), CutoffPosition: 99, DrawnAt: fixedNow, DrawnBy: ownerA,
		Winners: []domain.Winner{{ParticipantID: pid, EntryNumber: "ABCD-2345", Rank: 1}}}}
	v2ID, committedAt := uuid.New(), fixedNow.Add(-time.Second)
	h.queries.drawLogs[v2ID] = api.DrawLog{State: "DRAWN", AlternateCount: 1, CandidatesRoot: strings.Repeat("ef", 32),
		Randomness: &domain.DrawRandomness{Source: domain.RandomnessLocal}, CommittedAt: &committedAt, CommittedBy: ownerA,
		WinnersDrawn: domain.WinnersDrawn{DrawID: v2ID, EventID: campaignA, WinnerCount: 1, VisitBonusWeight: 1,
			Algorithm: domain.DrawAlgorithmMerkleV2, Seed: strings.Repeat("ab", 32), CandidateCount: 10, CutoffPosition: 98,
			DrawnAt: fixedNow, DrawnBy: ownerA, Winners: []domain.Winner{{ParticipantID: pid, EntryNumber: "ABCD-2345", Rank: 1}},
			Alternates: []domain.Winner{{ParticipantID: alt, EntryNumber: "ABCD-2346", Rank: 1}}}}
	pendingID := uuid.New()
	h.queries.drawLogs[pendingID] = api.DrawLog{State: "COMMITTED", CandidatesRoot: strings.Repeat("ef", 32),
		Randomness:  &domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: strings.Repeat("01", 32), Round: 12345},
		CommittedAt: &committedAt, CommittedBy: ownerA, WinnersDrawn: domain.WinnersDrawn{DrawID: pendingID, EventID: campaignA,
			WinnerCount: 1, VisitBonusWeight: 1, Algorithm: domain.DrawAlgorithmMerkleV2, CandidateCount: 10, CutoffPosition: 98}}
	h.cmds.verifyFn = func(id uuid.UUID, owner string) (commands.DrawVerification, error) {
		switch {
		case id != drawID:
			return commands.DrawVerification{}, fmt.Errorf("verify: %w", commands.ErrDrawNotFound)
		case owner != ownerA:
			return commands.DrawVerification{}, domain.ErrNotOwner
		}
		d := h.queries.drawLogs[drawID].WinnersDrawn
		return commands.DrawVerification{Draw: d, Result: domain.DrawVerification{Verified: true,
			Recomputed: domain.DrawResult{Winners: d.Winners, Algorithm: d.Algorithm, CandidateCount: d.CandidateCount,
				CandidatesDigest: d.CandidatesDigest}}}, nil
	}
	event := "/api/v1/events/" + campaignA.String()

	winners := decode[map[string]any](t, h.asOwner(ownerA, http.MethodGet, event+"/winners", nil))
	if w := winners["winners"].([]any)[0].(map[string]any); w["name"] != "김**" || w["phone"] != "010-****-5678" || len(winners["winners"].([]any)) != 1 {
		t.Errorf("winners = %v", winners)
	}
	if a := winners["alternates"].([]any); len(a) != 1 || a[0].(map[string]any)["entryNumber"] != "ABCD-2346" {
		t.Errorf("alternates = %v", winners["alternates"])
	}
	logs := decode[map[string]any](t, h.asOwner(ownerA, http.MethodGet, event+"/draw-logs", nil))
	if n := len(logs["drawLogs"].([]any)); n != 3 {
		t.Errorf("draw logs = %v", logs)
	}
	v2 := decode[map[string]any](t, h.asOwner(ownerA, http.MethodGet, "/api/v1/draw-logs/"+v2ID.String(), nil))
	if v2["candidatesRoot"] != strings.Repeat("ef", 32) || v2["state"] != "DRAWN" || v2["alternateCount"] != 1.0 ||
		len(v2["alternates"].([]any)) != 1 || v2["randomness"].(map[string]any)["source"] != "local" || v2["candidatesDigest"] != nil {
		t.Errorf("v2 draw log = %v", v2)
	}
	pending := decode[map[string]any](t, h.asOwner(ownerA, http.MethodGet, "/api/v1/draw-logs/"+pendingID.String(), nil))
	if pending["state"] != "COMMITTED" || pending["seed"] != nil || pending["drawnAt"] != nil || pending["randomness"].(map[string]any)["round"] != 12345.0 {
		t.Errorf("pending draw log = %v", pending)
	}
	one := decode[map[string]any](t, h.asOwner(ownerA, http.MethodGet, "/api/v1/draw-logs/"+drawID.String(), nil))
	if one["seed"] != strings.Repeat("ab", 32) || one["drawLogId"] != drawID.String() || one["cutoffPosition"] != 99.0 {
		t.Errorf("draw log = %v", one)
	}
	verified := decode[map[string]any](t, h.asOwner(ownerA, http.MethodGet, "/api/v1/draw-logs/"+drawID.String()+"/verify", nil))
	if verified["verified"] != true || verified["eventId"] != campaignA.String() || len(verified["mismatches"].([]any)) != 0 {
		t.Errorf("verification = %v", verified)
	}

	// Another owner's draw log answers exactly as an unknown one: these
	// routes name no campaign, so nothing may tell that the draw exists.
	unknown := uuid.NewString()
	for _, suffix := range []string{"", "/verify"} {
		t.Run("foreign_is_unknown"+strings.ReplaceAll(suffix, "/", "_"), func(t *testing.T) {
			foreign := wantError(t, h.asOwner(ownerB, http.MethodGet, "/api/v1/draw-logs/"+drawID.String()+suffix, nil), 404, "DRAW_LOG_NOT_FOUND")
			missing := wantError(t, h.asOwner(ownerB, http.MethodGet, "/api/v1/draw-logs/"+unknown+suffix, nil), 404, "DRAW_LOG_NOT_FOUND")
			if fmt.Sprint(foreign) != fmt.Sprint(missing) {
				t.Errorf("foreign %+v differs from unknown %+v", foreign, missing)
			}
		})
	}
}

func TestAnalyticsHoursAreSeoul(t *testing.T) {
	h := newHTTPHarness(t)
	h.queries.analytics = api.Analytics{TotalParticipants: 5, ByChannel: map[string]int64{"INSTAGRAM": 3, "KAKAO": 2},
		ByHour: []api.HourCount{
			{Hour: time.Date(2025, 5, 1, 15, 0, 0, 0, time.UTC), Count: 2},
			{Hour: time.Date(2025, 5, 1, 3, 0, 0, 0, time.UTC), Count: 3},
		}, StoreVisits: 1, Claimed: 1, UpdatedAt: fixedNow}
	resp := h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/analytics", nil)
	wantStatus(t, resp, 200)
	got := decode[map[string]any](t, resp)
	want := map[string]any{
		"eventId": campaignA.String(), "totalParticipants": 5.0,
		"byChannel": map[string]any{"INSTAGRAM": 3.0, "KAKAO": 2.0},
		"byHour": []any{
			map[string]any{"hour": "2025-05-01T12:00:00+09:00", "count": 3.0},
			map[string]any{"hour": "2025-05-02T00:00:00+09:00", "count": 2.0},
		},
		"storeVisits": 1.0, "winners": 0.0, "claimed": 1.0, "updatedAt": "2025-05-01T10:00:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("analytics (-want +got):\n%s", diff)
	}
}

func TestAnalyticsStream(t *testing.T) {
	h := newHTTPHarness(t)
	h.queries.analytics = api.Analytics{TotalParticipants: 1, ByChannel: map[string]int64{"KAKAO": 1}}
	srv := httptest.NewServer(h.handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/events/"+campaignA.String()+"/analytics/stream", nil)
	req.Header.Set("Authorization", "Bearer "+h.token(ownerA))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := resp.Header.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
		t.Errorf("Cache-Control = %q, want exactly no-store (owner data)", got)
	}
	r := bufio.NewReader(resp.Body)
	readEvent := func() string {
		t.Helper()
		var ev strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read stream: %v (so far %q)", err, ev.String())
			}
			ev.WriteString(line)
			if line == "\n" {
				return ev.String()
			}
		}
	}
	first := readEvent()
	if !strings.HasPrefix(first, "event: analytics\ndata: {") || !strings.Contains(first, `"totalParticipants":1`) {
		t.Errorf("first event = %q", first)
	}
	h.queries.setAnalytics(api.Analytics{TotalParticipants: 2, ByChannel: map[string]int64{"KAKAO": 2}})
	h.queries.changes <- struct{}{}
	second := readEvent()
	if !strings.Contains(second, `"totalParticipants":2`) {
		t.Errorf("second event = %q", second)
	}
	// The bytes so far are a valid answer of this operation.
	streamed := &http.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(strings.NewReader(first + second))}
	apitest.ValidateResponse(t, h.spec, req, streamed)
}
