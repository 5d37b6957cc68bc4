package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/projections"
)

// liveServer serves h's handler on a real listener through api.NewHTTPServer,
// as the service does: these tests are about connections, not handlers.
type liveServer struct {
	srv  *http.Server
	addr string
}

func startLive(t *testing.T, h *httpHarness, timeouts api.Timeouts, closing chan struct{}) *liveServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewHTTPServer(h.handler, timeouts, closing)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &liveServer{srv: srv, addr: l.Addr().String()}
}

// A bound on how long these tests wait for the server to act; it only keeps
// a broken server from hanging the test, and asserts no timing.
const patience = 30 * time.Second

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(patience))
	return conn
}

// A client trickling its body a byte at a time is cut off by the read
// timeout long before the body is complete.
func TestTricklingClientIsCutOff(t *testing.T) {
	h := newHTTPHarness(t)
	live := startLive(t, h, api.Timeouts{ReadHeader: time.Second, Read: time.Second}, nil)
	conn := dial(t, live.addr)
	const length = 200
	fmt.Fprintf(conn, "POST /api/v1/participations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", length)

	cut := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, conn); close(cut) }() // ends when the server closes
	sent := 0
trickle:
	for ; sent < length; sent++ {
		select {
		case <-cut:
			break trickle
		case <-time.After(100 * time.Millisecond): // 10 bytes a second: 20 s for the whole body
		}
		if _, err := conn.Write([]byte(" ")); err != nil {
			break
		}
	}
	select {
	case <-cut:
	case <-time.After(patience):
		t.Fatal("the server never closed the trickling connection")
	}
	if sent >= length {
		t.Fatalf("the whole body (%d bytes) got through before the cut", sent)
	}
	if n := len(h.cmds.commandsReceived()); n != 0 {
		t.Fatalf("a command ran for the cut-off request: %d", n)
	}
	t.Logf("cut off after %d of %d bytes", sent, length)
}

// A kept-alive connection with no next request is closed by the idle timeout.
func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	h := newHTTPHarness(t)
	live := startLive(t, h, api.Timeouts{Idle: 200 * time.Millisecond}, nil)
	conn := dial(t, live.addr)
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("status %d, close %v: want a kept-alive 200", resp.StatusCode, resp.Close)
	}
	// Nothing more is sent: the server must hang up (EOF), not our deadline.
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("read on the idle connection: %v, want EOF", err)
	}
}

// A CSV client that stops reading is cut off by the per-chunk write
// deadline; the export stops instead of blocking forever.
func TestCSVClientThatStopsReadingIsCutOff(t *testing.T) {
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.StreamWriteTimeout = 300 * time.Millisecond }))
	h.queries.endless = make(chan error, 1)
	live := startLive(t, h, api.Timeouts{}, nil)
	conn := dial(t, live.addr)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10) // fill the pipe sooner
	}
	fmt.Fprintf(conn, "GET /api/v1/events/%s/participants.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
		campaignA, h.token(ownerA))
	// ... and never read.
	select {
	case err := <-h.queries.endless:
		if err == nil {
			t.Fatal("the export ended without an error")
		}
		t.Logf("export ended: %v", err)
	case <-time.After(patience):
		t.Fatal("the export still writes to a client that stopped reading")
	}
}

// An analytics client that stops reading is cut off by the per-chunk write
// deadline: its stream ends and frees the owner's slot instead of blocking
// forever on a full connection. With one slot per owner, a second stream is
// refused while the stalled one lives and served once it is cut.
func TestSSEClientThatStopsReadingIsCutOff(t *testing.T) {
	h := newHTTPHarness(t, withConfig(func(c *api.Config) {
		c.StreamWriteTimeout = 300 * time.Millisecond
		c.MaxStreamsPerOwner = 1
	}))
	live := startLive(t, h, api.Timeouts{}, nil)
	conn := dial(t, live.addr)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10) // fill the pipe sooner
	}
	fmt.Fprintf(conn, "GET /api/v1/events/%s/analytics/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
		campaignA, h.token(ownerA))
	// The answer's head says the server holds the stream (and the owner's
	// one slot) before any probe could take it; past the head, never read.
	// The first (small) update fits in the buffers, so the stream idles,
	// holding the slot, until changes come.
	head, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the stalled stream's answer: %v", err)
	}
	if head.StatusCode != http.StatusOK {
		t.Fatalf("the stalled stream = %d, want 200", head.StatusCode)
	}
	probe := openStream(t, live.addr, h.token(ownerA))
	_ = probe.Body.Close()
	if probe.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a second stream while the first holds the slot = %d, want 429", probe.StatusCode)
	}
	waitForStream := func(want int) {
		t.Helper()
		deadline := time.Now().Add(patience)
		for {
			resp := openStream(t, live.addr, h.token(ownerA))
			_ = resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("another stream of the owner still answers %d, want %d", resp.StatusCode, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Large updates, one after another, until the connection is full.
	hours := make([]projections.HourCount, 5000)
	for i := range hours {
		hours[i] = projections.HourCount{Hour: fixedNow.Add(-time.Duration(i) * time.Hour), Count: int64(i)}
	}
	h.queries.setAnalytics(api.Analytics{TotalParticipants: 5000, ByHour: hours, UpdatedAt: fixedNow})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case h.queries.changes <- struct{}{}:
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	waitForStream(http.StatusOK)
}

// Shutting down with analytics streams open returns at once: the streams
// end when the shutdown begins instead of holding it to its deadline.
func TestShutdownWithOpenStreamsIsQuick(t *testing.T) {
	closing := make(chan struct{})
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.Closing = closing }))
	live := startLive(t, h, api.Timeouts{}, closing)
	var bodies []io.ReadCloser
	for range 3 {
		resp := openStream(t, live.addr, h.token(ownerA))
		if resp.StatusCode != 200 {
			t.Fatalf("stream: %d", resp.StatusCode)
		}
		bodies = append(bodies, resp.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second) // the old fixed wait
	defer cancel()
	start := time.Now()
	if err := live.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v (the streams held it)", err)
	}
	elapsed := time.Since(start)
	t.Logf("shutdown with 3 open streams took %v", elapsed)
	if elapsed > 5*time.Second {
		t.Errorf("shutdown took %v, want well under the old 15 s", elapsed)
	}
	for _, b := range bodies {
		if _, err := io.Copy(io.Discard, b); err != nil {
			t.Errorf("stream did not end cleanly: %v", err)
		}
	}
}

func openStream(t *testing.T, addr, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/events/"+campaignA.String()+"/analytics/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode == 200 {
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "event: analytics") {
			t.Fatalf("first line %q, %v", line, err)
		}
	}
	return resp
}

func TestAnOwnerHoldsAtMostTenStreams(t *testing.T) {
	h := newHTTPHarness(t)
	live := startLive(t, h, api.Timeouts{}, nil)
	var open []*http.Response
	for range 10 {
		open = append(open, openStream(t, live.addr, h.token(ownerA)))
	}
	eleventh := openStream(t, live.addr, h.token(ownerA))
	if eleventh.StatusCode != 429 || eleventh.Header.Get("Retry-After") == "" {
		t.Fatalf("11th stream: %d, Retry-After %q; want 429 with Retry-After", eleventh.StatusCode, eleventh.Header.Get("Retry-After"))
	}
	if body := decode[errorBody](t, eleventh); body.Code != "TOO_MANY_STREAMS" {
		t.Fatalf("11th stream: code %q", body.Code)
	}
	// Closing one frees its slot (once the server sees the hang-up).
	_ = open[0].Body.Close()
	deadline := time.Now().Add(patience)
	for {
		resp := openStream(t, live.addr, h.token(ownerA))
		if resp.StatusCode == 200 {
			break
		}
		_ = resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's slot was never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The server's read and write timeouts do not end a stream: it lifts them
// and arms a deadline per chunk instead.
func TestStreamOutlivesTheServerTimeouts(t *testing.T) {
	h := newHTTPHarness(t)
	live := startLive(t, h, api.Timeouts{Read: 200 * time.Millisecond, Write: 200 * time.Millisecond}, nil)
	resp := openStream(t, live.addr, h.token(ownerA))
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	time.Sleep(time.Second) // well past both timeouts
	h.queries.setAnalytics(api.Analytics{TotalParticipants: 7, UpdatedAt: fixedNow})
	h.queries.changes <- struct{}{}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended: %v", err)
		}
		if strings.Contains(line, `"totalParticipants":7`) {
			return
		}
	}
}
