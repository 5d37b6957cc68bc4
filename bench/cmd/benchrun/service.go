package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// service is the real `participation serve` process.
type service struct {
	cmd     *exec.Cmd
	base    string
	pprof   string // METRICS_ADDR's base: /metrics and, with PPROF, /debug/pprof/
	logPath string
	exited  chan error
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serviceEnv is the environment of every participation subprocess.
func (e *env) serviceEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "DATABASE_URL", "KAFKA_BROKERS", "KAFKA_TOPIC", "JWT_SECRET", "PII_KEY", "HTTP_ADDR", "LOG_LEVEL", "PPROF_ADDR", "DATA_DIR",
			"METRICS_ADDR", "PPROF", "RATE_LIMIT_PER_IP", "RATE_LIMIT_PER_OWNER", "TRUSTED_PROXIES", "KAFKA_PARTITIONS", "ROLES",
			"JWT_ISSUER", "JWT_AUDIENCE", "JWT_MAX_TTL",
			"PUBLIC_BASE_URL", "DATABASE_URL_FILE", "JWT_SECRET_FILE", "PII_KEY_FILE": // a variable and its _FILE both set is refused
		default:
			env = append(env, kv)
		}
	}
	env = append(env, "DATABASE_URL="+e.appURL, "KAFKA_BROKERS="+e.brokers, "KAFKA_TOPIC="+e.o.topic,
		"JWT_SECRET="+e.jwtSecret, "PII_KEY="+e.piiKey, "LOG_LEVEL="+e.o.logLevel,
		"DATA_DIR="+filepath.Join(e.o.work, "data"),
		// PUBLIC_BASE_URL is required with DATABASE_URL; no bench reads a share link.
		"PUBLIC_BASE_URL=http://localhost",
		"RATE_LIMIT_PER_IP=off",    // the load comes from one address on purpose
		"RATE_LIMIT_PER_OWNER=off") // and one owner's token
	return append(env, e.serveEnv...) // os/exec keeps the last of a repeated key
}

func (e *env) startService() error {
	httpPort, err := freePort()
	if err != nil {
		return err
	}
	pprofPort, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(e.o.work, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(e.o.bin, "serve")
	cmd.Env = append(e.serviceEnv(), fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", httpPort), fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", pprofPort), "PPROF=true")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start serve: %w", err)
	}
	s := &service{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		pprof: fmt.Sprintf("http://127.0.0.1:%d", pprofPort), logPath: logPath, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait(); logFile.Close() }()
	e.svc = s
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-s.exited:
			e.svc = nil
			return fmt.Errorf("serve exited: %v; last lines of %s:\n%s", err, logPath, tail(logPath, 20))
		default:
		}
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("serve not ready after 90 s; last lines of %s:\n%s", logPath, tail(logPath, 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	log.Printf("serve is up at %s (pid %d, pprof %s, log %s)", s.base, cmd.Process.Pid, s.pprof, logPath)
	tok := exec.Command(e.o.bin, "token", "--owner", "bench", "--ttl", "24h")
	tok.Env = e.serviceEnv()
	out, err := tok.CombinedOutput()
	if err != nil {
		return fmt.Errorf("participation token: %v: %s", err, out)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) == 0 {
		return errors.New("participation token printed nothing")
	}
	e.token = lines[len(lines)-1]
	return nil
}

func (s *service) pid() int { return s.cmd.Process.Pid }

func (s *service) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// procStatus reads a field of /proc/PID/status in KiB (VmRSS, VmHWM).
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == field {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// resetPeakRSS resets VmHWM to the current RSS (Linux ≥ 4.0).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// --- HTTP ---------------------------------------------------------------------

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Minute,
		Transport: &http.Transport{
			MaxIdleConns:        conns + 8,
			MaxIdleConnsPerHost: conns + 8,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

var ownerClient = newClient(4)

// call sends a JSON request (body may be nil) and returns status and body.
func (e *env) call(ctx context.Context, client *http.Client, method, path string, body any, owner bool) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.svc.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if owner {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// openCampaign opens a campaign that is open now and for a day.
func (e *env) openCampaign(title string) (uuid.UUID, error) {
	now := time.Now()
	status, body, err := e.call(e.ctx, ownerClient, http.MethodPost, "/api/v1/events", map[string]string{
		"title":      title,
		"startsAt":   now.Add(-time.Hour).Format(time.RFC3339),
		"endsAt":     now.Add(24 * time.Hour).Format(time.RFC3339),
		"announceAt": now.Add(48 * time.Hour).Format(time.RFC3339),
	}, true)
	if err != nil {
		return uuid.Nil, err
	}
	if status != http.StatusCreated {
		return uuid.Nil, fmt.Errorf("open campaign: %d %s", status, body)
	}
	var out struct {
		EventID uuid.UUID `json:"eventId"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return uuid.Nil, err
	}
	return out.EventID, nil
}

// phones are unique across the whole run: a counter over the 10^8 numbers.
var phoneCounter atomic.Uint64

func init() { phoneCounter.Store(rand.Uint64N(50_000_000)) }

var (
	benchNames   = []string{"김철수", "이영희", "박민준", "최서연", "정하윤", "강도윤", "조예은", "윤지호", "장수아", "임태현", "한지민", "오세훈"}
	benchPaths   = []string{"WOORIDONGNE_TV", "INSTAGRAM", "KAKAO", "NAVER_BLOG", "RINGO_BIZ", "STORE_QR", "SNS_OTHER", "OTHER"}
	registerPath = "/api/v1/participations"
)

// registrationBody is a valid registration with a phone never used before.
func registrationBody(eventID uuid.UUID) []byte {
	n := phoneCounter.Add(1) % 100_000_000
	return fmt.Appendf(nil, `{"eventId":"%s","name":"%s","phone":"010-%04d-%04d","entryPath":"%s","privacyConsent":true}`,
		eventID, benchNames[n%uint64(len(benchNames))], n/10_000, n%10_000, benchPaths[n%uint64(len(benchPaths))])
}

// register posts one registration; it returns the status and the body.
func (e *env) register(ctx context.Context, client *http.Client, eventID uuid.UUID) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.svc.base+registerPath, bytes.NewReader(registrationBody(eventID)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if e.o.idempotencyKeys {
		req.Header.Set("Idempotency-Key", uuid.NewString())
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// participantsTotal asks the read side for a campaign's totalCount.
func (e *env) participantsTotal(eventID uuid.UUID) (int64, int, error) {
	status, body, err := e.call(e.ctx, ownerClient, http.MethodGet,
		fmt.Sprintf("/api/v1/events/%s/participants?page=1&size=1", eventID), nil, true)
	if err != nil || status != http.StatusOK {
		return 0, status, err
	}
	var page struct {
		TotalCount int64 `json:"totalCount"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, status, err
	}
	return page.TotalCount, status, nil
}

// errReadSideMissing is the read side answering 503 (not wired yet).
var errReadSideMissing = errors.New("read side not wired yet (GET participants answers 503)")

// waitProjected waits until the campaign's list counts want participants.
func (e *env) waitProjected(eventID uuid.UUID, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	lastLog := time.Now()
	for {
		got, status, err := e.participantsTotal(eventID)
		switch {
		case status == http.StatusServiceUnavailable:
			return errReadSideMissing
		case err != nil:
			return err
		case status != http.StatusOK:
			return fmt.Errorf("GET participants: %d", status)
		case got >= want:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("read side did not catch up within %s: %d of %d participants visible", timeout, got, want)
		}
		if time.Since(lastLog) > 15*time.Second {
			log.Printf("waiting for the read side: %d of %d participants of %s visible", got, want, eventID)
			lastLog = time.Now()
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
