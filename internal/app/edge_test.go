package app

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
)

func TestRedactShowsHostAndDatabaseOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
	}{
		{"url_with_password", "postgres://app:s3cret@db.example:6543/shop?sslmode=require", "db.example:6543/shop"},
		{"url_without_user", "postgres://127.0.0.1:55432/postgres?sslmode=disable", "127.0.0.1:55432/postgres"},
		{"key_value_with_password", "host=db.example port=5433 user=app password=s3cret dbname=shop sslmode=disable", "db.example:5433/shop"},
		{"key_value_quoted_password", "host=db.example user=app password='s3 cret' dbname=shop", "db.example:5432/shop"},
		{"password_in_the_query", "postgres://db.example/shop?password=s3cret", "db.example:5432/shop"},
		{"unix_socket", "host=/var/run/postgresql user=app password=s3cret dbname=shop", "/var/run/postgresql/shop"},
		{"garbage", "postgres://app:s3cret@[::1", "(an unreadable connection string)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, secret := range []string{"s3cret", "s3 cret", "app"} {
				if strings.Contains(got, secret) {
					t.Errorf("Redact(%q) = %q shows %q", tc.in, got, secret)
				}
			}
		})
	}
}

// A bad DATABASE_URL is refused without echoing it (pgx's own message
// quotes the string, password included).
func TestBadDatabaseURLErrorHidesThePassword(t *testing.T) {
	t.Parallel()
	cfg := Config{DatabaseURL: "postgres://app:s3cret@db:notaport/shop", JWTSecret: strings.Repeat("j", 32), PIIKey: strings.Repeat("p", 16)}
	cfg.SetDefaults()
	_, err := OpenDatabase(t.Context(), cfg, cfg.Logger())
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v, want an error without the password", err)
	}
}

type countingCollector struct {
	gauge   prometheus.Gauge
	collect atomic.Int32
}

func (c *countingCollector) Describe(ch chan<- *prometheus.Desc) { c.gauge.Describe(ch) }
func (c *countingCollector) Collect(ch chan<- prometheus.Metric) {
	c.collect.Add(1)
	c.gauge.Collect(ch)
}

// Scrapes between two readings reuse the last one: no query per scrape.
func TestLagGaugesAreCachedBetweenScrapes(t *testing.T) {
	t.Parallel()
	inner := &countingCollector{gauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lag"})}
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	c := cached(inner, 5*time.Second)
	c.now = func() time.Time { return now }
	registry := prometheus.NewRegistry()
	registry.MustRegister(c)
	for range 10 {
		if _, err := registry.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.collect.Load(); n != 1 {
		t.Fatalf("10 scrapes within the TTL collected %d times, want 1", n)
	}
	now = now.Add(6 * time.Second)
	_, _ = registry.Gather()
	if n := inner.collect.Load(); n != 2 {
		t.Fatalf("a scrape after the TTL collected %d times in all, want 2", n)
	}
}

// serve with analytics streams open stops at once and cleanly (Run returns
// nil: the process exits 0), and /metrics and pprof live on METRICS_ADDR.
func TestRunWithOpenStreamsStopsQuickly(t *testing.T) {
	t.Parallel()
	s, cancel, done := startRun(t)
	base := "http://" + s.Addr.String()
	a := &testApp{t: t, url: base, client: http.DefaultClient, spec: apitest.LoadSpec(t, api.OpenAPISpec())}
	eventID := a.openCampaign(ownerA, openNow())
	var streams []io.Reader
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, base+analyticsPath(eventID)+"/stream", nil)
		req.Header.Set("Authorization", "Bearer "+token(t, ownerA))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body := bufio.NewReader(resp.Body)
		if line, err := body.ReadString('\n'); err != nil || !strings.HasPrefix(line, "event: analytics") {
			t.Fatalf("stream: %d %q %v", resp.StatusCode, line, err)
		}
		streams = append(streams, body)
	}
	for path, want := range map[string]int{"/metrics": 200, "/debug/pprof/": 200} {
		resp, err := http.Get("http://" + s.MetricsAddr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("METRICS_ADDR %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		elapsed := time.Since(start)
		t.Logf("Run stopped %v after the signal, with 3 streams open", elapsed)
		// A stream left open would hold the HTTP server's Shutdown until its
		// 15 s budget ran out, and Run would return that deadline (exit 1).
		if err != nil {
			t.Fatalf("Run = %v, want nil (exit 0)", err)
		}
		for i, stream := range streams {
			if _, err := io.Copy(io.Discard, stream); err != nil {
				t.Errorf("stream %d did not end cleanly at shutdown: %v", i, err)
			}
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not stop")
	}
}

// atOnceAcross sends n requests at once, alternately to a and b, and
// returns their answers in order; a request that could not be sent fails
// the test.
func atOnceAcross(t *testing.T, n int, a, b *testApp, send func(*testApp) (answer, error)) []answer {
	t.Helper()
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		app := a
		if i%2 == 1 {
			app = b
		}
		wg.Go(func() {
			var err error
			if answers[i], err = send(app); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return answers
}

// Two instances over one database: concurrent retries of one registration
// with one Idempotency-Key, half to each, make one registration, and every
// answer is the first one.
func TestIdempotencyKeyHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	first := newTestApp(t)
	second := newTestAppWith(t, appSetup{DatabaseURL: first.dbURL, Brokers: first.brokers, Topic: first.topic})
	eventID := first.openCampaign(ownerA, openNow())
	before := first.eventCount()

	answers := atOnceAcross(t, 16, first, second, func(app *testApp) (answer, error) {
		req, err := app.request(http.MethodPost, participationsPath, "", registrationBody(eventID, "김철수", "010-5555-1234", "KAKAO"))
		if err != nil {
			return answer{}, err
		}
		req.Header.Set(api.IdempotencyHeader, "retry-of-one-registration")
		return app.send(req)
	})
	for i, ans := range answers {
		if ans.Status != http.StatusCreated || string(ans.Body) != string(answers[0].Body) {
			t.Errorf("answer %d: %d %s, want the first 201 %s", i, ans.Status, ans.Body, answers[0].Body)
		}
	}
	if n := first.eventCount() - before; n != 1 {
		t.Fatalf("stored %d registrations, want 1", n)
	}
	// The same key with another body is refused, and stores nothing.
	req, _ := second.request(http.MethodPost, participationsPath, "", registrationBody(eventID, "이영희", "010-5555-9999", "KAKAO"))
	req.Header.Set(api.IdempotencyHeader, "retry-of-one-registration")
	ans, err := second.send(req)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Status != http.StatusUnprocessableEntity || errorOf(ans).Code != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("other body: %d %s, want 422 IDEMPOTENCY_KEY_REUSED", ans.Status, ans.Body)
	}
	if n := first.eventCount() - before; n != 1 {
		t.Fatalf("after the reuse: %d registrations, want 1", n)
	}
}

// A draw retried with its Idempotency-Key, on either of two instances of one
// database, gets the first draw's answer — not 409 ALREADY_DRAWN — and one
// draw is stored; the key with another body is 422.
func TestDrawIdempotencyKeyHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	first := newTestApp(t)
	second := newTestAppWith(t, appSetup{DatabaseURL: first.dbURL, Brokers: first.brokers, Topic: first.topic})
	eventID := first.openCampaign(ownerA, openNow())
	for i := range 5 {
		first.register(eventID, "김철수", fmt.Sprintf("010-7777-%04d", i))
	}
	ownerToken := token(t, ownerA)
	draw := func(app *testApp, body map[string]any) (answer, error) {
		req, err := app.request(http.MethodPost, drawPath(eventID), ownerToken, body)
		if err != nil {
			return answer{}, err
		}
		req.Header.Set(api.IdempotencyHeader, "retry-of-one-draw")
		return app.send(req)
	}

	answers := atOnceAcross(t, 8, first, second, func(app *testApp) (answer, error) {
		return draw(app, map[string]any{"winnerCount": 2})
	})
	for i, ans := range answers {
		if ans.Status != http.StatusOK || string(ans.Body) != string(answers[0].Body) {
			t.Errorf("answer %d: %d %s, want the first draw's 200 %s", i, ans.Status, ans.Body, answers[0].Body)
		}
	}
	if n := first.eventsOfType("WinnersDrawn", eventID); n != 1 {
		t.Fatalf("stored %d draws, want 1", n)
	}
	ans, err := draw(second, map[string]any{"winnerCount": 3})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Status != http.StatusUnprocessableEntity || errorOf(ans).Code != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("other body: %d %s, want 422 IDEMPOTENCY_KEY_REUSED", ans.Status, ans.Body)
	}
	if n := first.eventsOfType("WinnersDrawn", eventID); n != 1 {
		t.Fatalf("after the reuse: %d draws, want 1", n)
	}
}

// The wired service limits the public routes per client IP (the other
// end-to-end tests turn the limit off).
func TestRegistrationIsRateLimitedEndToEnd(t *testing.T) {
	t.Parallel()
	a := newTestAppWith(t, appSetup{RateLimit: api.RateLimit{PerSecond: 0.001, Burst: 3}})
	eventID := a.openCampaign(ownerA, openNow())
	var statuses []int
	for i := range 5 {
		ans := a.call(http.MethodPost, participationsPath, "", registrationBody(eventID, "김철수", fmt.Sprintf("010-6666-%04d", i), "KAKAO"))
		statuses = append(statuses, ans.Status)
		if ans.Status == http.StatusTooManyRequests && (errorOf(ans).Code != "RATE_LIMITED" || ans.Header.Get("Retry-After") == "") {
			t.Errorf("429 without its code or Retry-After: %s %v", ans.Body, ans.Header)
		}
	}
	if want := []int{201, 201, 201, 429, 429}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Fatalf("statuses = %v, want %v", statuses, want)
	}
}
