package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// gaugeSampler reads serve's RSS and goroutines every second; a minute's row
// is the median of its samples. One instant says little: the heap swings
// with each GC cycle, and the goroutines with the requests and workers of
// that moment.
type gaugeSampler struct {
	mu                            sync.Mutex
	rss, gor, conns, flight, owns []float64
}

// gauges is one minute's medians.
type gauges struct {
	RSSKiB, Goroutines, Connections, InFlight, Own int64
	Samples                                        int
}

func (g *gaugeSampler) add(rssKiB, goroutines, conns, inFlight int64) {
	if goroutines < 0 { // the metrics listener did not answer
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rss = append(g.rss, float64(rssKiB))
	g.gor = append(g.gor, float64(goroutines))
	g.conns = append(g.conns, float64(conns))
	g.flight = append(g.flight, float64(inFlight))
	g.owns = append(g.owns, float64(goroutines-conns-inFlight))
}

// take returns the medians of the samples since the last take and starts over.
func (g *gaugeSampler) take() gauges {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := gauges{
		RSSKiB: int64(median(g.rss)), Goroutines: int64(median(g.gor)), Connections: int64(median(g.conns)),
		InFlight: int64(median(g.flight)), Own: int64(median(g.owns)), Samples: len(g.gor),
	}
	g.rss, g.gor, g.conns, g.flight, g.owns = g.rss[:0], g.gor[:0], g.conns[:0], g.flight[:0], g.owns[:0]
	return m
}

// run samples every interval until ctx ends. The connections and requests in
// flight are the load generator's: the server runs a goroutine for each, so
// the service's own goroutines are the gauge less those.
func (g *gaugeSampler) run(ctx context.Context, e *env, every time.Duration, conns *atomic.Int64, inFlight func() int) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rss, _ := procStatus(e.svc.pid(), "VmRSS")
		c, f := conns.Load(), int64(inFlight())
		g.add(rss, e.goroutines(), c, f)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
