package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Timeouts bound how long a client may hold a connection, so idle or
// trickling clients cannot pin connections or goroutines. The streaming
// routes (CSV, SSE) lift the read and write deadlines for themselves and
// arm a write deadline per chunk instead (Config.StreamWriteTimeout).
type Timeouts struct {
	ReadHeader time.Duration // default 5s
	Read       time.Duration // the whole request, body included; default 30s
	Write      time.Duration // from the end of the headers to the end of the answer; default 60s
	Idle       time.Duration // a kept-alive connection between requests; default 120s
}

func (t *Timeouts) setDefaults() {
	if t.ReadHeader <= 0 {
		t.ReadHeader = 5 * time.Second
	}
	if t.Read <= 0 {
		t.Read = 30 * time.Second
	}
	if t.Write <= 0 {
		t.Write = 60 * time.Second
	}
	if t.Idle <= 0 {
		t.Idle = 120 * time.Second
	}
}

// NewHTTPServer returns the http.Server for handler with t's timeouts. When
// its Shutdown begins, closing is closed: pass the same channel as
// Config.Closing so the analytics streams end at once instead of holding the
// shutdown until its deadline.
func NewHTTPServer(handler http.Handler, t Timeouts, closing chan struct{}) *http.Server {
	t.setDefaults()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
	}
	if closing != nil {
		var once sync.Once
		srv.RegisterOnShutdown(func() { once.Do(func() { close(closing) }) })
	}
	return srv
}

// streamWriter is a streaming answer's deadlines: none for the request's
// read (the body was read) nor for the answer as a whole, and a fresh write
// deadline before every chunk, so a client that stops reading is cut off
// while a slow but reading one gets everything.
type streamWriter struct {
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *server) startStream(c *gin.Context) streamWriter {
	rc := http.NewResponseController(c.Writer)
	// Without this the server's read timeout would end the stream's
	// context (net/http's background read fails on the deadline).
	_ = rc.SetReadDeadline(time.Time{})
	w := streamWriter{rc: rc, timeout: s.cfg.StreamWriteTimeout}
	w.arm()
	return w
}

// arm gives the next write its own deadline.
func (w streamWriter) arm() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) }

func (w streamWriter) flush() error {
	w.arm()
	return w.rc.Flush()
}

// streamSlots caps the analytics streams an owner holds at once.
type streamSlots struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (s *streamSlots) acquire(owner string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[owner] >= s.max {
		return false
	}
	s.open[owner]++
	return true
}

func (s *streamSlots) release(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[owner]--; s.open[owner] <= 0 {
		delete(s.open, owner)
	}
}
