package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/shopevents/participation/api"
)

// X-Forwarded-For while TRUSTED_PROXIES is empty is worth one warning per
// server, however many requests carry it, and none when proxies are trusted
// or no request carries it.
func TestForwardedForWarningOnce(t *testing.T) {
	const marker = "X-Forwarded-For but TRUSTED_PROXIES is empty"
	tests := []struct {
		name      string
		trusted   string
		forwarded bool
		want      int
	}{
		{"no trusted proxies, forwarded requests", "", true, 1},
		{"no trusted proxies, direct requests", "", false, 0},
		{"trusted proxies, forwarded requests", "10.0.0.1", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHTTPHarness(t, withConfig(func(c *api.Config) {
				c.TrustedProxies, _ = api.ParseTrustedProxies(tt.trusted)
			}))
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					var headers []string
					if tt.forwarded {
						headers = []string{"X-Forwarded-For", "198.51.100." + string(rune('1'+i%9))}
					}
					resp := h.do(http.MethodGet, "/healthz", nil, headers...)
					resp.Body.Close()
				})
			}
			wg.Wait()
			logs := h.logs.String()
			if got := strings.Count(logs, marker); got != tt.want {
				t.Fatalf("%d warnings, want %d:\n%s", got, tt.want, logs)
			}
			if strings.Contains(logs, "198.51.100.") {
				t.Error("the log shows a forwarded address")
			}
		})
	}
}
