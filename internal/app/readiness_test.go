package app

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// /readyz is public on the API's port and a check costs a database ping,
// migration queries and a broker round trip: a burst of probes shares one
// check (those arriving while it runs wait for it), and its answer serves
// for a second.
func TestReadyzBurstRunsOneCheck(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.svc.ready
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	var checks atomic.Int32
	gate := make(chan struct{})
	c.mu.Lock()
	inner := c.check
	c.now = func() time.Time { return now } // read under c.mu only
	c.check = func(ctx context.Context) readyResult {
		checks.Add(1)
		<-gate
		return inner(ctx)
	}
	c.mu.Unlock()
	waiting := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.waiting
	}

	const burst = 8
	statuses := make([]int, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			resp, err := a.client.Get(a.url + "/readyz")
			if err != nil {
				t.Errorf("GET /readyz: %v", err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	waitUntil(t, "the burst waiting for the running check", func() error {
		if n := waiting(); n != burst-1 {
			return fmt.Errorf("%d callers waiting, want %d", n, burst-1)
		}
		return nil
	})
	close(gate)
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("call %d of the burst = %d, want 200", i, s)
		}
	}
	if n := checks.Load(); n != 1 {
		t.Fatalf("a burst of %d /readyz calls ran %d checks, want 1", burst, n)
	}

	for range 5 { // within the second: the cached answer
		if ans := a.call(http.MethodGet, "/readyz", "", nil); ans.Status != http.StatusOK {
			t.Fatalf("cached /readyz = %d: %s", ans.Status, ans.Body)
		}
	}
	if n := checks.Load(); n != 1 {
		t.Fatalf("calls within the cache's second ran %d checks, want 1", n)
	}
	c.mu.Lock()
	now = now.Add(readyCacheTTL)
	c.mu.Unlock()
	if ans := a.call(http.MethodGet, "/readyz", "", nil); ans.Status != http.StatusOK {
		t.Fatalf("/readyz after the cache's second = %d: %s", ans.Status, ans.Body)
	}
	if n := checks.Load(); n != 2 {
		t.Fatalf("a call after the cache's second ran %d checks in all, want 2", n)
	}
}
