package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// CorrelationHeader carries the correlation id in and out.
const CorrelationHeader = "X-Correlation-ID"

const correlationKey = "api.correlation_id"

// correlate takes the caller's correlation id when it is sane, or makes one,
// and echoes it, so one id follows a request into its events and log lines.
func (s *server) correlate(c *gin.Context) {
	id := c.GetHeader(CorrelationHeader)
	if !validCorrelationID(id) {
		id = uuid.NewString()
	}
	c.Set(correlationKey, id)
	c.Header(CorrelationHeader, id)
	c.Next()
}

func validCorrelationID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch ch := id[i]; {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == ':':
		default:
			return false
		}
	}
	return true
}

func correlationID(c *gin.Context) string { return c.GetString(correlationKey) }

// routeOf is the route template, never the raw path: no entry number, no
// query string, and a bounded set of metric labels.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// observe logs one line per request and records its latency. It logs in a
// defer so that an aborted stream (http.ErrAbortHandler) still leaves a line.
func (s *server) observe(c *gin.Context) {
	start := time.Now()
	defer func() {
		elapsed := time.Since(start)
		status := c.Writer.Status()
		route, method := routeOf(c), metricMethod(c.Request.Method)
		s.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		s.logger.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.String("correlation_id", correlationID(c)),
		)
	}()
	c.Next()
}

func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// recoverPanics turns a panic into a logged 500 with the error shape; the stack
// goes to the log only.
func (s *server) recoverPanics(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v) // net/http's signal to drop the connection quietly
		}
		s.logger.LogAttrs(c.Request.Context(), slog.LevelError, "panic",
			slog.String("correlation_id", correlationID(c)),
			slog.String("route", routeOf(c)),
			slog.String("panic", fmt.Sprint(v)),
			slog.String("stack", string(debug.Stack())))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		status, body := classify(errors.New("panic"))
		c.AbortWithStatusJSON(status, body)
	}()
	c.Next()
}

func registerDuration(reg *prometheus.Registry, logger *slog.Logger) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "HTTP request latency by route template, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	if err := reg.Register(h); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(*prometheus.HistogramVec); ok {
				return existing // a second server on the same registry shares the histogram
			}
		}
		logger.Error("api: HTTP metrics not registered", slog.String("error", err.Error()))
	}
	return h
}
