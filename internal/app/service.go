package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rcrowley/go-metrics"
	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/notifier"
	"github.com/shopevents/participation/notify"
	"github.com/shopevents/participation/privacy"
	"github.com/shopevents/participation/projections"
	"github.com/shopevents/participation/relay"
	"github.com/shopevents/participation/web"
)

// sarama (the projectors' Kafka client) keeps a go-metrics registry that
// costs CPU on every request and that nothing reads; set before any client
// exists, so in init.
func init() { metrics.UseNilMetrics = true }

// publicRetention is what the customer page says about retention; nil when
// the instance was given none (tests), so the page says nothing it cannot back.
func publicRetention(r retention) *api.Retention {
	if !r.shown() {
		return nil
	}
	return &api.Retention{NonWinners: r.NonWinners, Winners: r.Winners}
}

// deps is what a service is built from once the database is open and the
// secrets are known.
type deps struct {
	Pool    *pgxpool.Pool
	Brokers []string
	Topic   string
	// Partitions of the topic when the relay creates it.
	Partitions int32
	JWTSecret  []byte
	PIIKey     []byte
	Logger     *slog.Logger
	Roles      Roles
	Retention  retention // Every zero: no retention runs in this instance

	// The edge (api.Config): zero RateLimit is the default 10/s, burst 20.
	RateLimit      api.RateLimit
	TrustedProxies []netip.Prefix
	PublicBaseURL  string          // share links and QR codes; validated
	Closing        <-chan struct{} // closed when the HTTP server shuts down: streams end
	Pprof          bool            // serve pprof next to /metrics
	// OwnerRateLimit: zero is the default 20/s, burst 40, per owner;
	// Tokens: zero is the default iss, aud and lifetime.
	OwnerRateLimit api.RateLimit
	Tokens         api.TokenRules

	// Draw is the draw's randomness (DRAW_RANDOMNESS=drand: a beacon
	// client); DrawOptions are the client's (tests: a pinned test chain).
	Draw        beacon.Config
	DrawOptions []beacon.Option
	// DrawCompleteEvery and DrawMaxBackoff pace the relay leader's
	// completion of pending drand draws (zero: 1 s and 1 min).
	DrawCompleteEvery, DrawMaxBackoff time.Duration
	// PhoneVerification (PHONE_VERIFICATION=otp) sends codes through
	// Notifier; nil Notifier: the log notifier (notify.OTPLog).
	PhoneVerification bool
	Notifier          notify.Notifier
	// Clock is the API's and the commands' (api.Config.Now, commands.Config
	// .Clock): what announceAt and the claim deadline are measured against.
	// Nil: time.Now; tests move it.
	Clock func() time.Time

	// The notifier role: NOTIFY_WEBHOOK_URL and its secret (no URL: the
	// log adapter); NotifyEvery and NotifyRetryBase pace its sender (zero:
	// 1 s, and 30 s doubling); tests shorten them.
	NotifyWebhookURL    string
	NotifyWebhookSecret []byte
	NotifyEvery         time.Duration
	NotifyRetryBase     time.Duration
}

// service is one instance wired for its roles: the HTTP handler (the whole
// API with the API role, the operations endpoints otherwise) and the
// background workers. A role that is off leaves its fields nil.
type service struct {
	roles    Roles
	handler  http.Handler // HTTP_ADDR
	metrics  http.Handler // METRICS_ADDR: /metrics, and pprof when asked
	store    *eventstore.Store
	registry *prometheus.Registry

	batcher   *eventstore.Batcher   // API
	commands  *commands.Application // API
	queries   *projections.Queries  // API
	relay     *relay.Relay          // relay
	retention *retentionWorker      // relay
	draws     *drawCompleter        // relay, DRAW_RANDOMNESS=drand
	sweeper   *idempotencySweeper   // API
	readSide  *projectors           // projectors
	notifier  *notifier.Notifier    // notifier
	broker    *kafka.BrokerCheck    // relay or projectors: /readyz reports the broker
	ready     *cachedReadiness      // /readyz, on either handler
}

func newService(d deps) (_ *service, err error) {
	if d.Roles == (Roles{}) {
		d.Roles = AllRoles
	}
	s := &service{roles: d.Roles, store: eventstore.New(d.Pool), registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerReadSideMetrics(s.registry, d.Pool, d.Logger)
	var drand *beacon.Client
	var drawStats *drawMetrics
	// With DRAND_URLS and DRAND_CHAIN_HASH set, drand draws are completed
	// and verified even when new draws are local (DRAW_RANDOMNESS switched back).
	if d.Draw.Drand() || (len(d.Draw.URLList()) > 0 && d.Draw.ChainHashBytes() != nil) {
		if drand, err = beacon.New(d.Draw, d.DrawOptions...); err != nil {
			return nil, err
		}
		drawStats = newDrawMetrics(s.registry)
	}
	if d.Roles.Relay {
		// The relay is where personal data leaves the store, opened and
		// masked (privacy.Publicizer); the projectors fold what it
		// published and need no PII_KEY.
		publicize, err := Publicizer(d.Pool, d.PIIKey, d.Logger)
		if err != nil {
			return nil, err
		}
		if s.relay, err = newRelay(s.store, d, publicize, s.registry); err != nil {
			return nil, err
		}
		if drand != nil {
			h, err := commands.New(s.store, commands.Config{PIIKey: d.PIIKey, Beacon: drand, OnRefused: drawStats.onRefused(d.Logger)})
			if err != nil {
				return nil, err
			}
			s.draws = newDrawCompleter(h, drand, s.relay, d.Logger, drawStats, d.DrawCompleteEvery, d.DrawMaxBackoff)
		}
		s.registry.MustRegister(cached(relayLag(s.store, s.relay), lagCacheTTL), relayLeader(s.relay))
		if d.Retention.Every > 0 {
			if s.retention, err = newRetentionWorker(s.store, d.PIIKey, d.Retention, s.relay, d.Logger); err != nil {
				return nil, err
			}
			s.registry.MustRegister(s.retention.collectors()...)
		}
	}
	if d.Roles.Projectors {
		if s.readSide, err = newProjectors(d.Pool, d.Brokers, d.Topic, d.Logger); err != nil {
			return nil, err
		}
	}
	if d.Roles.Notifier {
		if s.notifier, err = newNotifier(s.store, d, s.registry); err != nil {
			return nil, err
		}
	}
	ready := readiness{pool: d.Pool}
	if d.Roles.Relay || d.Roles.Projectors || d.Roles.Notifier {
		if ready.broker, err = newBrokerCheck(d.Brokers); err != nil {
			return nil, err
		}
		s.broker = ready.broker
	}
	s.metrics = metricsHandler(s.registry, d.Pprof)
	s.ready = newCachedReadiness(ready)
	if !d.Roles.API {
		s.handler = opsHandler(s.ready)
		return s, nil
	}
	s.batcher = s.store.NewBatcher(eventstore.BatcherConfig{})
	cmdCfg := commands.Config{PIIKey: d.PIIKey, Batcher: s.batcher, Clock: d.Clock, ChainInfo: chainInfoSource(drand),
		PhoneVerification: d.PhoneVerification, Notifier: d.Notifier}
	if d.PhoneVerification && d.Notifier == nil {
		webhook, err := webhookSender(d)
		if err != nil {
			return nil, err
		}
		cmdCfg.Notifier = webhook
		if webhook == nil {
			cmdCfg.Notifier = notify.NewOTPLog(d.Logger)
			d.Logger.Warn("PHONE_VERIFICATION=otp without NOTIFY_WEBHOOK_URL: codes go to the log, not to phones")
		}
	}
	if drand != nil {
		cmdCfg.Beacon, cmdCfg.DrandDraws, cmdCfg.OnRefused = drand, d.Draw.Drand(), drawStats.onRefused(d.Logger)
	}
	application, err := commands.New(s.store, cmdCfg)
	if err != nil {
		return nil, err
	}
	s.commands = &application
	keys, err := privacy.NewKeys(d.PIIKey)
	if err != nil {
		return nil, err
	}
	idempotency, err := eventstore.NewIdempotencyKeys(d.Pool, eventstore.IdempotencyConfig{FingerprintKey: keys.IdempotencyKey()})
	if err != nil {
		return nil, err
	}
	s.sweeper = newIdempotencySweeper(idempotency, IdempotencySweepEvery, d.Logger)
	s.queries = projections.NewQueries(d.Pool, d.Logger)
	var pagesErr error
	pages := func(campaign api.CampaignCheck) http.Handler {
		var h http.Handler
		h, pagesErr = web.NewHandler(web.Config{Campaign: pageCampaign(campaign)})
		return h
	}
	s.handler = api.NewServer(api.Config{
		JWTSecret:      d.JWTSecret,
		Tokens:         d.Tokens,
		OwnerRateLimit: d.OwnerRateLimit,
		Now:            d.Clock,
		Registry:       s.registry,
		Unavailable:    dbUnavailable,
		RateLimit:      d.RateLimit,
		TrustedProxies: d.TrustedProxies,
		PublicBaseURL:  d.PublicBaseURL,
		Idempotency:    idempotency,
		Closing:        d.Closing,
		Campaigns:      s.queries,
		Certificates:   application.Queries.Certificates,
		Retention:      publicRetention(d.Retention),

		PhoneVerification: d.PhoneVerification,
		Pages:             pages,
		Notifications:     ownerNotifications{pool: d.Pool, clock: d.Clock},
	}, newCommandMetrics(s.registry).metered(apiApp(application)), s.queries, s.ready, d.Logger)
	if pagesErr != nil {
		return nil, pagesErr
	}
	return s, nil
}

// pageCampaign is the customer pages' 404 rule: the API's public campaign
// check (through its memory of unknown ids), in web's words.
func pageCampaign(check api.CampaignCheck) func(context.Context, uuid.UUID) error {
	return func(ctx context.Context, eventID uuid.UUID) error {
		err := check(ctx, eventID)
		if errors.Is(err, domain.ErrCampaignNotFound) {
			return web.ErrNoCampaign
		}
		return err
	}
}

// run runs the background roles (relay, projectors) until ctx ends; each
// retries through broker outages, so only ctx ends them.
func (s *service) run(ctx context.Context) error {
	group, gctx := errgroup.WithContext(ctx)
	if s.relay != nil {
		group.Go(func() error { return ignoreCanceled(s.relay.Run(gctx)) })
	}
	if s.readSide != nil {
		group.Go(func() error { return ignoreCanceled(s.readSide.run(gctx)) })
	}
	if s.notifier != nil {
		group.Go(func() error { return s.notifier.Run(gctx) })
	}
	if s.retention != nil {
		group.Go(func() error { s.retention.run(gctx); return nil })
	}
	if s.sweeper != nil {
		group.Go(func() error { s.sweeper.run(gctx); return nil })
	}
	if s.draws != nil {
		group.Go(func() error { s.draws.run(gctx); return nil })
	}
	return group.Wait()
}

// close releases what newService started; call it after the HTTP server
// and run have stopped.
func (s *service) close() {
	if s.batcher != nil {
		s.batcher.Close()
	}
	if s.queries != nil {
		s.queries.Close()
	}
	if s.readSide != nil {
		s.readSide.close()
	}
	if s.broker != nil {
		s.broker.Close()
	}
}

// Publicizer opens and masks the personal data of events read from the
// store (privacy.Publicizer): what the relay publishes and what a rebuild
// folds (projections.RebuildOptions.Publicize).
func Publicizer(pool *pgxpool.Pool, piiKey []byte, logger *slog.Logger) (projections.Publicize, error) {
	keys, err := privacy.NewKeys(piiKey)
	if err != nil {
		return nil, err
	}
	return privacy.NewPublicizer(keys, eventstore.New(pool), logger).Public, nil
}

// ReplayPublicizer is Publicizer over a snapshot of every data key, read in
// one scan when it is called (eventstore.SubjectKeySnapshot): what a
// rebuild's replay opens a million registrations with
// (projections.RebuildOptions.ReplayPublicize).
func ReplayPublicizer(pool *pgxpool.Pool, piiKey []byte, logger *slog.Logger) (func(context.Context) (projections.Publicize, error), error) {
	keys, err := privacy.NewKeys(piiKey)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (projections.Publicize, error) {
		store := eventstore.New(pool)
		snap, err := store.SnapshotSubjectKeys(ctx)
		if err != nil {
			return nil, err
		}
		return privacy.NewPublicizer(keys, snapshotSource{snap, store}, logger).Public, nil
	}, nil
}

// snapshotSource opens registrations with the snapshot's keys and reads a
// draw's winners' registrations from the store (a few per draw).
type snapshotSource struct {
	*eventstore.SubjectKeySnapshot
	store *eventstore.Store
}

func (s snapshotSource) ReadStreamsOfType(ctx context.Context, streams []string, eventType string) ([]eventstore.RecordedEvent, error) {
	return s.store.ReadStreamsOfType(ctx, streams, eventType)
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// opsHandler is what an instance without the API role serves on HTTP_ADDR:
// liveness and readiness, so an orchestrator can watch it too (its metrics
// are on METRICS_ADDR, as every instance's).
func opsHandler(ready *cachedReadiness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks, err := ready.Ready(ctx)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "잠시 후 다시 시도해주세요"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
