package api

import (
	"log/slog"

	"github.com/gin-gonic/gin"
)

// forwardedWarning is the message of warnUntrustedForwarded's one log line.
const forwardedWarning = "api: a request carried X-Forwarded-For but TRUSTED_PROXIES is empty, so it is ignored " +
	"and the per-IP limits count the peer (behind a proxy: every client as one); set TRUSTED_PROXIES to the proxy's addresses"

// warnUntrustedForwarded logs the first request that carries
// X-Forwarded-For while no proxy is trusted, once per server: a proxy in
// front that nobody declared is a misconfiguration worth one line, and
// a client's own header is no reason to fill the log. The header's value
// (client addresses) is not logged.
func (s *server) warnUntrustedForwarded(c *gin.Context) {
	if len(c.Request.Header.Values("X-Forwarded-For")) > 0 {
		s.forwardedOnce.Do(func() {
			s.logger.LogAttrs(c.Request.Context(), slog.LevelWarn, forwardedWarning,
				slog.String("method", metricMethod(c.Request.Method)),
				slog.String("route", routeOf(c)),
				slog.String("correlation_id", correlationID(c)))
		})
	}
	c.Next()
}
