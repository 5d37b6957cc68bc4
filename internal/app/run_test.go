package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/internal/testenv"
)

// startRun runs serve in-process (Run) on free ports with METRICS_ADDR and
// pprof on; stop cancels it, and done gives Run's result.
func startRun(t *testing.T) (s Started, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	started := make(chan Started, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := Config{
		DatabaseURL:   testenv.Database(t),
		KafkaBrokers:  strings.Join(testenv.KafkaBrokers(t), ","),
		KafkaTopic:    testenv.Topic(t),
		HTTPAddr:      "127.0.0.1:0",
		PublicBaseURL: "https://events.example.test",
		MetricsAddr:   "127.0.0.1:0",
		Pprof:         true,
		JWTSecret:     string(testJWTSecret),
		PIIKey:        string(testPIIKey),
		LogLevel:      "error",
		OnStart:       func(s Started) error { started <- s; return nil },
	}
	result := make(chan error, 1)
	go func() { result <- Run(ctx, cfg) }()
	select {
	case s = <-started:
	case err := <-result:
		t.Fatalf("Run: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("Run did not start")
	}
	return s, cancel, result
}

// A CPU profile in flight on METRICS_ADDR does not hold the shutdown: the
// metrics server is closed, not drained, so Run returns nil (exit 0) instead
// of its 15 s Shutdown budget's deadline (exit 1).
func TestRunStopsWithAProfileInFlight(t *testing.T) {
	t.Parallel()
	s, stop, done := startRun(t)
	metrics := "http://" + s.MetricsAddr.String()

	profile := make(chan error, 1)
	go func() {
		resp, err := http.Get(metrics + "/debug/pprof/profile?seconds=50")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		profile <- err
	}()
	waitUntil(t, "the profile in flight", func() error {
		var dump bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&dump, 2)
		if !strings.Contains(dump.String(), "net/http/pprof.Profile(") {
			return io.ErrNoProgress
		}
		return nil
	})

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil (exit 0): the profile held the shutdown", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not stop")
	}
	select {
	case err := <-profile:
		t.Logf("the profile's client: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the profile's connection outlived the server")
	}
}
