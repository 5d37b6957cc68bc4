package app

import (
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultMetricsAddr is where /metrics (and pprof, when asked) listen:
// loopback, away from the API's port, since the figures are platform-wide.
const DefaultMetricsAddr = "127.0.0.1:9090"

// metricsHandler serves the registry at /metrics and, only when asked,
// net/http/pprof under /debug/pprof/ — on a mux of its own, never the API's.
func metricsHandler(registry *prometheus.Registry, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// lagCacheTTL is how long a scrape reuses the lag gauges' last reading: a
// scraper hammering /metrics costs at most one query per gauge this often.
const lagCacheTTL = 5 * time.Second

// cachedCollector collects inner at most once per ttl and hands out that
// reading in between: the lag gauges query the database when collected.
type cachedCollector struct {
	inner prometheus.Collector
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	at    time.Time
	last  []prometheus.Metric
}

func cached(inner prometheus.Collector, ttl time.Duration) *cachedCollector {
	return &cachedCollector{inner: inner, ttl: ttl, now: time.Now}
}

func (c *cachedCollector) Describe(ch chan<- *prometheus.Desc) { c.inner.Describe(ch) }

func (c *cachedCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock() // concurrent scrapes wait for one reading
	if c.at.IsZero() || c.now().Sub(c.at) >= c.ttl {
		fresh := make(chan prometheus.Metric, 64)
		go func() { c.inner.Collect(fresh); close(fresh) }()
		c.last = c.last[:0]
		for m := range fresh {
			c.last = append(c.last, m)
		}
		c.at = c.now()
	}
	for _, m := range c.last {
		ch <- m
	}
}
