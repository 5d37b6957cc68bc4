package app

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
)

// The fault tests that kill the service run the real binary, built once.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// participationBinary builds ./cmd/participation once per test run.
func participationBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "participation-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "participation")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/shopevents/participation/cmd/participation").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build ./cmd/participation: %w\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// instance is `participation serve` as a child process: started, killed
// with SIGKILL, started again on the same address.
type instance struct {
	t     *testing.T
	name  string
	env   []string
	addr  string // HTTP_ADDR
	mAddr string // METRICS_ADDR
	logs  *syncBuffer
	cmd   *exec.Cmd
	done  chan struct{}
}

// processSetup is what every instance of a test shares.
type processSetup struct {
	DatabaseURL string
	Brokers     []string
	Topic       string
	Env         []string // more variables, e.g. DRAW_RANDOMNESS
}

// startInstance starts `participation serve --roles roles` and waits until
// it is ready.
func startInstance(t *testing.T, name string, setup processSetup, roles Roles) *instance {
	t.Helper()
	in := &instance{t: t, name: name, logs: &syncBuffer{},
		addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), mAddr: "127.0.0.1:" + strconv.Itoa(freePort(t))}
	in.env = append(os.Environ(),
		"DATABASE_URL="+setup.DatabaseURL,
		"KAFKA_BROKERS="+strings.Join(setup.Brokers, ","),
		"KAFKA_TOPIC="+setup.Topic,
		"HTTP_ADDR="+in.addr,
		"PUBLIC_BASE_URL=http://"+in.addr,
		"METRICS_ADDR="+in.mAddr,
		"JWT_SECRET="+string(testJWTSecret),
		"PII_KEY="+string(testPIIKey),
		"ROLES="+roles.String(),
		"LOG_LEVEL=info",
		"RATE_LIMIT_PER_IP=off",    // the load comes from one address
		"RATE_LIMIT_PER_OWNER=off", // and the tests poll the owner routes
		"PPROF_ADDR=",
	)
	in.env = append(in.env, setup.Env...)
	in.start()
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			t.Logf("%s's log (warnings and errors):\n%s", in.name, warnings(in.logs.String()))
			if dir := os.Getenv("FAULT_LOGS"); dir != "" { // the whole log, for a post-mortem
				_ = os.WriteFile(filepath.Join(dir, t.Name()+"-"+in.name+".log"), []byte(in.logs.String()), 0o644)
			}
		}
	})
	return in
}

// start runs the process and waits for /readyz.
func (in *instance) start() {
	in.t.Helper()
	cmd := exec.Command(participationBinary(in.t), "serve")
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = io.Discard, in.logs
	if err := cmd.Start(); err != nil {
		in.t.Fatalf("start %s: %v", in.name, err)
	}
	in.cmd, in.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(in.done)
	waitUntil(in.t, in.name+" ready", func() error {
		select {
		case <-in.done:
			in.t.Fatalf("%s exited at start: %s\n%s", in.name, cmd.ProcessState, in.logs.String())
		default:
		}
		resp, err := http.Get(in.url() + "/readyz")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz → %d", resp.StatusCode)
		}
		return nil
	})
}

// kill sends SIGKILL (no shutdown of any kind) and waits for the exit.
func (in *instance) kill() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
	in.cmd = nil
}

func (in *instance) url() string { return "http://" + in.addr }

// client is a testApp talking to the process, for the same requests and
// spec checks as in-process tests; pool is the database's, for checks.
func (in *instance) client(pool *pgxpool.Pool) *testApp {
	transport := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
	in.t.Cleanup(transport.CloseIdleConnections)
	return &testApp{t: in.t, url: in.url(), client: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		pool: pool, spec: apitest.LoadSpec(in.t, api.OpenAPISpec()), logs: in.logs}
}

// relayLeads reads the instance's participation_relay_leader gauge, on
// METRICS_ADDR or, where metrics share the API's port, on HTTP_ADDR.
func (in *instance) relayLeads() (bool, error) {
	var lastErr error
	for _, base := range []string{"http://" + in.mAddr, in.url()} {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			lastErr = err
			continue
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			lastErr = fmt.Errorf("%s/metrics → %d %v", base, resp.StatusCode, err)
			continue
		}
		for line := range strings.Lines(string(body)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "participation_relay_leader "); ok {
				return v == "1", nil
			}
		}
		lastErr = fmt.Errorf("%s/metrics has no participation_relay_leader", base)
	}
	return false, lastErr
}

// openPool connects to a database for the test's own checks.
func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// warnings are the lines of a text log above info.
func warnings(log string) string {
	var out strings.Builder
	for line := range strings.Lines(log) {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			out.WriteString(line)
		}
	}
	return out.String()
}
