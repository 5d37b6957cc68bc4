package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// /readyz is public on the API's port and a check costs a database ping,
// migration queries and a broker round trip: a burst of probes shares one
// check (those arriving while it runs wait for it), and its answer serves
// for a second.
func TestReadyzBurstRunsOneCheck(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.svc.ready
	now := time.Now()
	var checks atomic.Int32
	gate := make(chan struct{})
	c.mu.Lock()
	inner := c.check
	c.now = func() time.Time { return now } // read under c.mu only
	c.have = false                          // a result cached by the real clock is not this test's
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

// /readyz's verdict and its checks come from one check: a check that fails
// right after one that passed (the cache expiring in between) never makes
// a 200 without its checks.
func TestReadyzVerdictAndChecksAreOneCheck(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	c := a.svc.ready
	now := time.Now()
	var runs atomic.Int32
	c.mu.Lock()
	c.have = false
	c.now = func() time.Time { now = now.Add(readyCacheTTL); return now } // every read: expired
	c.check = func(context.Context) readyResult {
		if runs.Add(1)%2 == 0 {
			return readyResult{err: errors.New("database: gone")}
		}
		return readyResult{checks: map[string]string{"database": "ok"}}
	}
	c.mu.Unlock()
	seen := map[int]int{}
	for range 6 {
		resp, err := a.client.Get(a.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		seen[resp.StatusCode]++
		if resp.StatusCode == http.StatusOK && body.Checks["database"] != "ok" {
			t.Fatalf("/readyz = 200 with checks %v, want the passing check's", body.Checks)
		}
	}
	if seen[http.StatusOK] == 0 || seen[http.StatusServiceUnavailable] == 0 {
		t.Fatalf("answers %v, want both 200 and 503 from alternating checks", seen)
	}
}

// A database dropped under a running instance makes /readyz 503, and the
// "not ready" log tells why as the connect errors do: no user=… database=….
func TestReadyzLogsARedactedCause(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	admin, err := url.Parse(a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(admin.Path, "/")
	admin.Path = "/postgres"
	conn, err := pgx.Connect(t.Context(), admin.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	// A pooled connection the drop cut may fail first; the next check
	// connects afresh and is refused.
	var notReady []string
	waitUntil(t, "a not-ready log saying the database is gone", func() error {
		a.svc.ready.mu.Lock()
		a.svc.ready.have = false // each probe checks again
		a.svc.ready.mu.Unlock()
		resp, err := a.client.Get(a.url + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/readyz with the database dropped = %d, want 503", resp.StatusCode)
		}
		notReady = notReady[:0]
		for l := range strings.SplitSeq(a.logs.String(), "\n") {
			if strings.Contains(l, `"msg":"not ready"`) {
				notReady = append(notReady, l)
			}
		}
		if len(notReady) == 0 || !strings.Contains(notReady[len(notReady)-1], "no such database") {
			return fmt.Errorf("not-ready lines %q", notReady)
		}
		return nil
	})
	for _, line := range notReady {
		for _, secret := range []string{"user=", "database=", name} {
			if strings.Contains(line, secret) {
				t.Errorf("the not-ready log shows %q: %s", secret, line)
			}
		}
	}
}
