package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/internal/embedded"
)

// Started is what an instance tells its operator once it listens.
type Started struct {
	Addr        net.Addr
	DatabaseURL string // as configured or of the private PostgreSQL; may hold a password (Redact it)
	Brokers     []string
	Topic       string
	Roles       Roles
	MetricsAddr net.Addr // nil when METRICS_ADDR is off
	Pprof       bool
	JWTSecret   []byte // the embedded mode's banner signs a demo token with it
	Embedded    bool
	DataDir     string
	// PublicBaseURL is what share links and QR codes start with.
	PublicBaseURL string
	// PostgresDir is where the private cluster lives when it is not under
	// DataDir (as root, when the server's user cannot reach DataDir).
	PostgresDir string
	// Tokens are the rules the banner's token is issued under.
	Tokens api.TokenRules
}

// Run starts an instance with cfg's roles and serves until ctx ends: the
// database opened and migrated (a private one in the embedded mode), an
// in-process broker when no KAFKA_BROKERS are given and a background role
// needs one, HTTP on HTTP_ADDR, and the relay and projectors.
func Run(ctx context.Context, cfg Config) error {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := cfg.Logger()
	jwtSecret, piiKey, err := Secrets(cfg)
	if err != nil {
		return err
	}
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	brokers := cfg.Brokers()
	if len(brokers) == 0 && (cfg.Roles.Relay || cfg.Roles.Projectors || cfg.Roles.Notifier) {
		broker, err := embedded.StartKafka(filepath.Join(cfg.DataDir, "kafka"), embedded.DefaultKafkaPort, cfg.KafkaTopic, cfg.KafkaPartitions)
		if err != nil {
			return err
		}
		defer broker.Stop()
		brokers = broker.Brokers()
		logger.Info("started the in-process Kafka broker", "brokers", strings.Join(brokers, ","))
	}

	rateLimit, _ := api.ParseRateLimit(cfg.RateLimitPerIP)    // validated above
	trusted, _ := api.ParseTrustedProxies(cfg.TrustedProxies) // validated above
	baseURL, _ := cfg.BaseURL()                               // validated above
	closing := make(chan struct{})
	ownerLimit, _ := api.ParseRateLimit(cfg.RateLimitPerOwner) // validated above
	otp, _ := cfg.OTP()                                        // validated above
	svc, err := newService(deps{
		Pool: db.Pool, Brokers: brokers, Topic: cfg.KafkaTopic, Partitions: cfg.KafkaPartitions,
		JWTSecret: jwtSecret, PIIKey: piiKey, Logger: logger, Roles: cfg.Roles,
		Retention: retention{NonWinners: cfg.RetentionNonWinners, Winners: cfg.RetentionWinners, Every: RetentionEvery},
		RateLimit: rateLimit, TrustedProxies: trusted, PublicBaseURL: baseURL, Closing: closing, Pprof: cfg.Pprof,
		OwnerRateLimit: ownerLimit, Tokens: cfg.TokenRules(),
		Draw: cfg.Draw, PhoneVerification: otp, NotifyWebhookURL: cfg.NotifyWebhookURL, NotifyWebhookSecret: []byte(cfg.NotifyWebhookSecret),
	})
	if err != nil {
		return err
	}
	defer svc.close() // after the HTTP server and the workers stopped (group.Wait below)
	listener, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	apiServer := api.NewHTTPServer(svc.handler, api.Timeouts{}, closing)
	servers := []*http.Server{apiServer}
	listeners := []net.Listener{listener}
	var metricsAddr net.Addr
	if !cfg.MetricsOff() {
		ml, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			_ = listener.Close()
			return fmt.Errorf("listen on METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
		}
		metricsAddr = ml.Addr()
		servers = append(servers, newMetricsServer(svc.metrics))
		listeners = append(listeners, ml)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	group, gctx := errgroup.WithContext(ctx)
	group.Go(func() error { return svc.run(gctx) })
	for i, server := range servers {
		group.Go(func() error {
			if err := server.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		group.Go(func() error {
			<-gctx.Done()
			if server != apiServer {
				// METRICS_ADDR has nothing worth finishing, and a CPU profile
				// in flight would hold a graceful shutdown for as long as it
				// was asked: close it.
				return server.Close()
			}
			// In-flight requests finish; new connections are refused; the
			// analytics streams end at once (closing), so this is quick.
			shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 15*time.Second)
			defer cancel()
			return server.Shutdown(shutdownCtx)
		})
	}
	logger.Info("started", "roles", cfg.Roles.String(), "addr", listener.Addr().String())

	if cfg.OnStart != nil {
		if err := cfg.OnStart(Started{
			Addr: listener.Addr(), MetricsAddr: metricsAddr, Pprof: cfg.Pprof, DatabaseURL: db.URL, PublicBaseURL: baseURL, Brokers: brokers, Topic: cfg.KafkaTopic, Roles: cfg.Roles,
			JWTSecret: jwtSecret, Tokens: cfg.TokenRules(), Embedded: cfg.Embedded(), DataDir: cfg.DataDir, PostgresDir: db.RelocatedDir(),
		}); err != nil {
			cancel()
			return errors.Join(err, group.Wait())
		}
	}
	err = group.Wait()
	logger.Info("stopped")
	return err
}

// newMetricsServer serves /metrics (and pprof when asked) with timeouts of
// its own, so an idle or trickling client pins nothing: a scrape is small,
// and net/http/pprof extends its write deadline by a profile's length.
func newMetricsServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
	}
}
