package app

import (
	"cmp"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/shopevents/participation/internal/testenv"
)

func TestOpsEndpoints(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name, method, path string
		wantStatus         int
		check              func(t *testing.T, ans answer)
	}{
		{name: "healthz_is_200", path: "/healthz", wantStatus: 200},
		{name: "readyz_is_200_on_a_migrated_database", path: "/readyz", wantStatus: 200},
		{name: "openapi_json_is_the_spec_as_json", path: "/openapi.json", wantStatus: 200, check: func(t *testing.T, ans answer) {
			doc := decode[map[string]any](t, ans)
			if _, ok := doc["openapi"]; !ok {
				t.Errorf("/openapi.json has no openapi key")
			}
			if paths, _ := doc["paths"].(map[string]any); paths[participationsPath] == nil {
				t.Errorf("/openapi.json has no path %s", participationsPath)
			}
		}},
		{name: "metrics_are_not_on_the_api_port", path: "/metrics", wantStatus: 404},
		{name: "pprof_is_not_on_the_api_port", path: "/debug/pprof/", wantStatus: 404},
		{name: "unknown_route_is_404_in_the_error_shape", path: "/api/v1/nothing-here", wantStatus: 404, check: func(t *testing.T, ans answer) {
			if got, want := decode[apiError](t, ans).Code, "NOT_FOUND"; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
		}},
		{name: "wrong_method_is_405_in_the_error_shape", method: http.MethodDelete, path: participationsPath, wantStatus: 405, check: func(t *testing.T, ans answer) {
			if got, want := decode[apiError](t, ans).Code, "METHOD_NOT_ALLOWED"; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ans := a.in(t).call(cmp.Or(tc.method, http.MethodGet), tc.path, "", nil)
			if got, want := ans.Status, tc.wantStatus; got != want {
				t.Errorf("status = %d, want %d: %s", got, want, ans.Body)
			}
			if tc.check != nil {
				tc.check(t, ans)
			}
		})
	}
}

func TestMetricsCountCommandsByOutcome(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	a.register(eventID, "김철수", "010-4444-1234")
	if ans := a.call(http.MethodPost, participationsPath, "", registrationBody(eventID, "김철수", "01044441234", "KAKAO")); ans.Status != http.StatusConflict {
		t.Fatalf("duplicate registration = %d, want 409", ans.Status)
	}
	body := a.scrape(t)
	for _, want := range []string{
		`participation_commands_total{command="open_campaign",outcome="ok"} 1`,
		`participation_commands_total{command="register_participant",outcome="ok"} 1`,
		`participation_commands_total{command="register_participant",outcome="rejected"} 1`,
		`participation_command_duration_seconds_count{command="register_participant"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// /readyz by role: every role needs the database; a relay or projector
// instance reports its broker and stays ready while Kafka is away.
func TestReadyzPerRole(t *testing.T) {
	t.Parallel()
	db := testenv.Database(t)
	away := []string{"127.0.0.1:" + strconv.Itoa(freePort(t))} // nothing listens there
	cases := []struct {
		name    string
		roles   Roles
		brokers []string
		want    map[string]string
	}{
		{name: "api_only_needs_the_database_alone", roles: Roles{API: true}, brokers: away, want: map[string]string{"database": "ok"}},
		{name: "all_roles_report_the_broker", roles: AllRoles, brokers: testenv.KafkaBrokers(t), want: map[string]string{"database": "ok", "kafka": "ok"}},
		{name: "all_roles_stay_ready_with_kafka_away", roles: AllRoles, brokers: away, want: map[string]string{"database": "ok", "kafka": "unreachable"}},
		{name: "relay_only_stays_ready_with_kafka_away", roles: Roles{Relay: true}, brokers: away, want: map[string]string{"database": "ok", "kafka": "unreachable"}},
		{name: "projectors_only_report_the_broker", roles: Roles{Projectors: true}, brokers: testenv.KafkaBrokers(t), want: map[string]string{"database": "ok", "kafka": "ok"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestAppWith(t, appSetup{DatabaseURL: db, Brokers: tc.brokers, Roles: tc.roles})
			var ans answer
			if tc.roles.API {
				ans = a.in(t).call(http.MethodGet, "/readyz", "", nil) // checked against the spec
			} else {
				resp, err := http.Get(a.url + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				ans = answer{Status: resp.StatusCode, Body: body}
			}
			if ans.Status != http.StatusOK {
				t.Fatalf("/readyz = %d, want 200: %s", ans.Status, ans.Body)
			}
			got := decode[struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}](t, ans)
			if got.Status != "ready" || !maps.Equal(got.Checks, tc.want) {
				t.Errorf("/readyz = %s, want ready with checks %v", ans.Body, tc.want)
			}
		})
	}
}

// scrape reads the instance's /metrics from METRICS_ADDR's handler.
func (a *testApp) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(a.metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(body)
}

func TestMetricsAddrServesTheLagGaugesAndNoPprofUnlessAsked(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	if body := a.scrape(t); !strings.Contains(body, "participation_relay_lag_events") {
		t.Errorf("/metrics has no participation_relay_lag_events:\n%.2000s", body)
	}
	resp, err := http.Get(a.metricsURL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("pprof without --pprof: %d, want 404", resp.StatusCode)
	}
}
