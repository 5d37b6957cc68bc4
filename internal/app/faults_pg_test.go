package app

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/internal/embedded"
)

// ownCluster is a PostgreSQL server of the test's own, so that the test can
// take it away and bring it back (the shared server is everyone's).
type ownCluster struct {
	t    *testing.T
	dir  string
	port int
	pg   *embedded.Postgres
}

// startOwnCluster initializes and starts a cluster under a temporary
// directory (as the unprivileged postgres user when the tests run as root,
// which is why the directory is not t.TempDir: that one is 0700 to root).
func startOwnCluster(t *testing.T) *ownCluster {
	t.Helper()
	parent, err := os.MkdirTemp("", "participation-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &ownCluster{t: t, dir: filepath.Join(parent, "data"), port: freePort(t)}
	c.start()
	t.Cleanup(func() {
		if err := c.pg.Stop(); err != nil {
			t.Errorf("stop the test's PostgreSQL: %v", err)
		}
		_ = os.RemoveAll(parent)
	})
	return c
}

func (c *ownCluster) start() {
	c.t.Helper()
	pg, err := embedded.StartPostgres(c.t.Context(), c.dir, c.port, func(format string, args ...any) { c.t.Logf(format, args...) })
	if err != nil {
		c.t.Fatalf("start the test's PostgreSQL: %v", err)
	}
	c.pg = pg
}

// url is the cluster's database for the service.
func (c *ownCluster) url() string { return c.pg.URL() }

// crash stops the server the way a crash does (SIGQUIT: immediate shutdown,
// no checkpoint, crash recovery at the next start) and waits until it is gone.
func (c *ownCluster) crash() {
	c.t.Helper()
	raw, err := os.ReadFile(filepath.Join(c.dir, "postmaster.pid"))
	if err != nil {
		c.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil {
		c.t.Fatalf("postmaster.pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		c.t.Fatalf("signal the postmaster: %v", err)
	}
	waitUntil(c.t, "the postmaster gone", func() error {
		if syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("postmaster %d still runs", pid)
		}
		return nil
	})
}

// The database goes away under load and comes back: meanwhile the API
// answers 503 in the error shape (never 500, never the driver's words),
// it recovers by itself, nothing answered 201 is lost, and every read model
// ends equal to a rebuild from the store.
func TestPostgresRestartUnderLoad(t *testing.T) {
	t.Parallel()
	serialHeavy(t)
	cluster := startOwnCluster(t)
	a := newTestAppWith(t, appSetup{DatabaseURL: cluster.url()})
	a.run()
	owner := a.ownerView(ownerA)
	campaigns := []uuid.UUID{a.openCampaign(ownerA, openNow()), a.openCampaign(ownerA, openNow())}

	l := startLoad(t, []*testApp{a}, campaigns, 8)
	waitUntil(t, "registrations flowing", func() error {
		if n := l.count(http.StatusCreated); n < 200 {
			return fmt.Errorf("%d answered 201", n)
		}
		return nil
	})

	cluster.crash()
	down := l.count(http.StatusServiceUnavailable)
	waitUntil(t, "503s while the database is away", func() error {
		if n := l.count(http.StatusServiceUnavailable) - down; n < 50 {
			return fmt.Errorf("%d answered 503", n)
		}
		return nil
	})
	waitUntil(t, "/readyz 503 with the database away", func() error { // its answer is cached for a second
		if ready := a.tolerating503().call(http.MethodGet, "/readyz", "", nil); ready.Status != http.StatusServiceUnavailable {
			return fmt.Errorf("/readyz = %d: %s", ready.Status, ready.Body)
		}
		return nil
	})

	cluster.start()
	back := time.Now()
	waitUntil(t, "registrations answered 201 again", func() error {
		if !l.createdAfter(back) {
			return fmt.Errorf("no 201 since the database returned %s ago (%s)", time.Since(back).Round(time.Millisecond), l.summary())
		}
		return nil
	})
	recovered := time.Since(back)
	// Keep the load on a little longer, then look at everything.
	more := l.count(http.StatusCreated)
	waitUntil(t, "load after the recovery", func() error {
		if n := l.count(http.StatusCreated) - more; n < 200 {
			return fmt.Errorf("%d answered 201 since", n)
		}
		return nil
	})
	l.stop()
	t.Logf("the first 201 came %s after the database was back (DESIGN: within 5 s); %s", recovered.Round(time.Millisecond), l.summary())
	waitUntil(t, "/readyz 200 after the database returned", func() error {
		if ans := a.tolerating503().call(http.MethodGet, "/readyz", "", nil); ans.Status != http.StatusOK {
			return fmt.Errorf("/readyz = %d: %s", ans.Status, ans.Body)
		}
		return nil
	})

	l.assertAllStored(t, a.pool, owner) // first: it names what is missing, if anything
	assertReadModelsMatchRebuild(t, a.pool)
}
