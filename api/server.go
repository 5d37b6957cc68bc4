// Package api is the HTTP face of the service: it binds and validates
// requests, authenticates owners, calls a command or a query, and maps errors
// to statuses in one place (errors.go). The contract is openapi.yaml.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// DefaultMaxBodyBytes is the request body limit (413 past it).
const DefaultMaxBodyBytes = 1 << 20

// DefaultOwnerRatePerSecond is RATE_LIMIT_PER_OWNER's default (burst twice it).
const DefaultOwnerRatePerSecond = 20

// Config tunes the server; zero values take the defaults.
type Config struct {
	// JWTSecret verifies owner tokens (HS256). Empty rejects every owner request.
	JWTSecret    []byte
	MaxBodyBytes int64            // default 1 MiB
	Now          func() time.Time // clock of token expiry, rate limits and caches; default time.Now
	// Registry receives the HTTP metrics, so the relay's and projectors'
	// metrics can share it; the operator serves it on METRICS_ADDR, never on
	// the API's port. Nil: a fresh registry with the Go and process collectors.
	Registry     *prometheus.Registry
	SSEKeepAlive time.Duration // comment line interval on analytics streams; default 15s
	SSECoalesce  time.Duration // changes within this window send one update; default 250ms
	ReadyTimeout time.Duration // /readyz check budget; default 2s
	// Unavailable tells a failure of a dependency that is away for now (the
	// database restarting) from a bug: those answer 503 UNAVAILABLE, so
	// clients retry, instead of 500. The wiring supplies it, since only it
	// knows the drivers. Nil: none is.
	Unavailable func(error) bool

	// RateLimit is each client IP's token bucket on the public routes.
	RateLimit RateLimit
	// OwnerRateLimit is each owner's token bucket on the owner routes
	// (default 20/s, burst 40); a draw, a verify and a CSV export cost 10.
	OwnerRateLimit RateLimit
	// Tokens are the claims an owner token must carry (iss, aud, the
	// longest lifetime); zero fields take the defaults.
	Tokens TokenRules
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// PublicBaseURL is where customers reach the pages, as ParsePublicBaseURL
	// returns it: share links and QR codes are built from it. Empty: a
	// warning, and links to http://localhost.
	PublicBaseURL string
	// MissTTL is how long an unknown eventId is answered 404 from memory; default 2s.
	MissTTL time.Duration
	// Idempotency keeps the first answers of requests with an
	// Idempotency-Key. Nil: the header is checked but not honoured.
	Idempotency Idempotency
	// IdempotencyWait bounds how long a retry waits for the first request
	// with its key to answer before 409; default 10s.
	IdempotencyWait time.Duration
	// MaxStreamsPerOwner caps an owner's open analytics streams; default 10.
	MaxStreamsPerOwner int
	// StreamWriteTimeout bounds each chunk of a streamed answer (CSV, SSE):
	// a client that stops reading is cut off after it; default 10s.
	StreamWriteTimeout time.Duration
	// Closing, closed when the server shuts down, ends every analytics
	// stream at once (see NewHTTPServer).
	Closing <-chan struct{}
	// Campaigns is the campaigns read model behind GET /api/v1/events; nil
	// answers 503.
	Campaigns Campaigns
	// Certificates answers the public draw certificate and its leaves; nil
	// answers 503.
	Certificates Certificates
	// MaxLeafStreams caps the draw leaves' downloads in flight in this
	// instance (each holds a database connection while a million lines go
	// out); beyond it 503 with Retry-After. Default 8.
	MaxLeafStreams int
	// Retention is how long personal data is kept after announceAt, shown
	// to customers next to the consent; nil leaves it out of the answer.
	Retention *Retention
	// PhoneVerification (PHONE_VERIFICATION=otp) is told to the customer
	// pages by the public campaign, so they ask for a code.
	PhoneVerification bool
	// Notifications is the winners' messages (the notifier's outbox); nil
	// leaves them out of the winners list and answers a resend 503.
	Notifications Notifications
	// Pages builds the handler of the web pages (/p/..., /owner/...,
	// /assets/...); nil leaves those paths 404. NewServer calls it once with
	// the public routes' own campaign check, so a customer page's 404 and
	// the API's EVENT_NOT_FOUND are one rule, answered from the same memory
	// of unknown ids.
	Pages func(campaign CampaignCheck) http.Handler
}

func (c *Config) setDefaults() {
	c.Tokens = c.Tokens.WithDefaults()
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
		c.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if c.SSEKeepAlive <= 0 {
		c.SSEKeepAlive = 15 * time.Second
	}
	if c.SSECoalesce <= 0 {
		c.SSECoalesce = 250 * time.Millisecond
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 2 * time.Second
	}
	if c.MissTTL <= 0 {
		c.MissTTL = 2 * time.Second
	}
	if c.IdempotencyWait <= 0 {
		c.IdempotencyWait = 10 * time.Second
	}
	if c.MaxStreamsPerOwner <= 0 {
		c.MaxStreamsPerOwner = 10
	}
	if !c.OwnerRateLimit.Off && c.OwnerRateLimit.PerSecond <= 0 {
		c.OwnerRateLimit.PerSecond = DefaultOwnerRatePerSecond
	}
	if c.StreamWriteTimeout <= 0 {
		c.StreamWriteTimeout = 10 * time.Second
	}
	if c.MaxLeafStreams <= 0 {
		c.MaxLeafStreams = 8
	}
}

type server struct {
	cfg Config
	// customers and owners are the public and the owner routes' handlers.
	public   Customers
	owner    Owners
	queries  Queries
	ready    Readiness
	logger   *slog.Logger
	duration *prometheus.HistogramVec
	limiter  *limiter[netip.Addr] // per client IP; nil: no limit
	owners   *limiter[string]     // per token sub; nil: no limit
	misses   *missCache
	streams  *streamSlots
	leaves   chan struct{} // the leaves' downloads in flight
	// forwardedOnce makes warnUntrustedForwarded's line the server's only one.
	forwardedOnce sync.Once
}

var ginReleaseMode sync.Once

// NewServer returns the HTTP handler of the whole API. A nil handler in app
// or a nil queries makes its routes answer 503; a nil ready reports ready; a
// nil logger discards.
func NewServer(cfg Config, app App, queries Queries, ready Readiness, logger *slog.Logger) http.Handler {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ginReleaseMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	s := &server{
		cfg:      cfg,
		public:   app.Customers,
		owner:    app.Owners,
		queries:  queries,
		ready:    ready,
		logger:   logger,
		duration: registerDuration(cfg.Registry, logger),
		limiter:  newIPLimiter(cfg.RateLimit, cfg.Now),
		owners:   newLimiter[string](cfg.OwnerRateLimit, cfg.Now),
		misses:   newMissCache(cfg.MissTTL, cfg.Now),
		streams:  &streamSlots{max: cfg.MaxStreamsPerOwner, open: make(map[string]int)},
		leaves:   make(chan struct{}, cfg.MaxLeafStreams),
	}
	if len(cfg.JWTSecret) == 0 {
		logger.Warn("api: no JWT secret configured; every owner request will be 401")
	}
	if s.cfg.PublicBaseURL == "" {
		s.cfg.PublicBaseURL = "http://localhost"
		logger.Warn("api: no public base URL configured; share links and QR codes point to " + s.cfg.PublicBaseURL)
	}
	return s.routes()
}

func (s *server) routes() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	r.Use(s.correlate, s.nosniff, s.observe, s.recoverPanics)
	if len(s.cfg.TrustedProxies) == 0 {
		r.Use(s.warnUntrustedForwarded)
	}
	r.NoRoute(func(c *gin.Context) { s.writeError(c, errRouteNotFound) })
	r.NoMethod(func(c *gin.Context) { s.writeError(c, errMethodNotAllowed) })

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.json", s.openAPI)

	v1 := r.Group("/api/v1")
	// public: routes a stranger may call, rate-limited per client IP.
	public := v1.Group("", s.limitPerIP, s.requireJSON)
	public.POST("/participations", s.idempotentInBatch(registrationScope), s.registerParticipant)
	public.POST("/participations/erase", s.eraseMyData)
	public.POST("/participations/verification", s.requestVerification)
	public.GET("/events/:eventId/public", s.publicCampaign)
	public.GET("/events/:eventId/draw-certificate", s.drawCertificate)
	public.GET("/events/:eventId/draw-certificate/leaves", s.drawLeaves)
	public.GET("/events/:eventId/result", s.result)
	public.POST("/events/:eventId/result/check", s.checkResult)
	public.POST("/events/:eventId/claims", s.claimPrize)

	// owner: every answer is no-store, 401s included; the per-owner limit
	// keys on the token's sub, so it runs after authentication.
	owner := v1.Group("", s.noStore, s.authenticate, s.limitPerOwner, s.requireJSON)
	owner.GET("/events", s.listCampaigns)
	owner.POST("/events", s.openCampaign)
	owner.GET("/events/:eventId/qr.png", s.storeQR)
	owner.GET("/events/:eventId/share-links", s.shareLinks)
	owner.GET("/events/:eventId/participants", s.listParticipants)
	owner.GET("/events/:eventId/participants.csv", s.exportParticipants)
	owner.POST("/events/:eventId/participants/:entryNumber/visit", s.recordStoreVisit)
	owner.DELETE("/events/:eventId/participants/:entryNumber", s.eraseParticipant)
	owner.POST("/events/:eventId/winners/:entryNumber/contact", s.revealWinnerContact)
	owner.POST("/events/:eventId/winners/:entryNumber/delivery", s.revealDelivery)
	owner.POST("/events/:eventId/winners/:entryNumber/replace", s.replaceWinner)
	owner.GET("/events/:eventId/contact-reveals", s.listContactReveals)
	owner.POST("/events/:eventId/draw-winners", s.idempotent(drawScope), s.drawWinners)
	owner.GET("/events/:eventId/winners", s.listWinners)
	owner.POST("/events/:eventId/winners/:entryNumber/notifications/resend", s.resendNotification)
	owner.GET("/events/:eventId/draw-logs", s.listDrawLogs)
	owner.GET("/events/:eventId/analytics", s.analytics)
	owner.GET("/events/:eventId/analytics/stream", s.streamAnalytics)
	owner.GET("/draw-logs/:drawLogId", s.drawLog)
	owner.GET("/draw-logs/:drawLogId/verify", s.verifyDraw)
	if s.cfg.Pages != nil {
		pages := gin.WrapH(s.cfg.Pages(s.campaignKnown))
		// A customer page asks about its campaign: one request per page
		// load, limited like the public routes. The dashboard and the
		// assets ask nothing and stay unlimited.
		r.GET("/p/*path", s.limitPerIP, pages)
		r.HEAD("/p/*path", s.limitPerIP, pages)
		for _, p := range []string{"/owner/*path", "/assets/*path"} {
			r.GET(p, pages)
			r.HEAD(p, pages)
		}
		r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/owner/") })
		r.GET("/owner", func(c *gin.Context) { c.Redirect(http.StatusFound, "/owner/") })
	}
	return r
}

func (s *server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *server) readyz(c *gin.Context) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ReadyTimeout)
		defer cancel()
		checks, err := s.ready.Ready(ctx)
		if err != nil {
			// The wiring's Readiness tells its errors without credentials.
			s.logger.LogAttrs(c.Request.Context(), slog.LevelWarn, "not ready",
				slog.String("correlation_id", correlationID(c)), slog.String("error", err.Error()))
			s.writeError(c, errNotReady)
			return
		}
		if checks != nil {
			c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (s *server) openAPI(c *gin.Context) {
	b, err := openAPIJSON()
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}
