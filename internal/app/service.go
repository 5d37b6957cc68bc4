package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
	"github.com/shopevents/participation/projections"
)

// deps is what a service is built from once the database is open and the
// secrets are known.
type deps struct {
	Pool      *pgxpool.Pool
	Brokers   []string
	Topic     string
	JWTSecret []byte
	PIIKey    []byte
	Logger    *slog.Logger
	Roles     Roles
}

// service is one instance wired for its roles: the HTTP handler (the whole
// API with the API role, the operations endpoints otherwise) and the
// background workers. A role that is off leaves its fields nil.
type service struct {
	roles    Roles
	handler  http.Handler
	store    *eventstore.Store
	registry *prometheus.Registry

	batcher  *eventstore.Batcher  // API
	commands *commands.Handlers   // API
	queries  *projections.Queries // API
	relay    *eventstore.Relay    // relay
	readSide *projectors          // projectors
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
	keys, err := privacy.NewKeys(d.PIIKey)
	if err != nil {
		return nil, err
	}
	// The relay and the projectors' reads of the store open and mask
	// personal data the same way: what leaves the store is the same.
	publicize := privacy.NewPublicizer(keys, s.store, d.Logger).Public

	if d.Roles.Relay {
		if s.relay, err = newRelay(s.store, d.Brokers, d.Topic, publicize, d.Logger); err != nil {
			return nil, err
		}
		s.registry.MustRegister(relayLag(s.store, s.relay))
	}
	if d.Roles.Projectors {
		if s.readSide, err = newProjectors(d.Pool, d.Brokers, d.Topic, publicize, d.Logger); err != nil {
			return nil, err
		}
	}
	ready := readiness{d.Pool}
	if !d.Roles.API {
		s.handler = opsHandler(s.registry, ready)
		return s, nil
	}
	s.batcher = s.store.NewBatcher(eventstore.BatcherConfig{})
	if s.commands, err = commands.New(s.store, commands.Config{PIIKey: d.PIIKey, Batcher: s.batcher}); err != nil {
		return nil, err
	}
	s.queries = projections.NewQueries(d.Pool, d.Logger)
	s.handler = api.NewServer(api.Config{JWTSecret: d.JWTSecret, Registry: s.registry, Unavailable: dbUnavailable},
		newMeteredCommands(s.commands, s.registry), s.queries, ready, d.Logger)
	return s, nil
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
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// opsHandler is what an instance without the API role serves on HTTP_ADDR:
// liveness, readiness and metrics, so an orchestrator can watch it too.
func opsHandler(registry *prometheus.Registry, ready readiness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, `{"code":"NOT_READY","message":"not ready"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"status":"ready"}`)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// readiness answers /readyz: the database answers and the schema is current.
type readiness struct{ pool *pgxpool.Pool }

func (r readiness) Ready(ctx context.Context) error {
	if err := r.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	for _, m := range []struct {
		fsys  fs.FS
		table string
	}{
		{eventstore.Migrations(), eventstore.MigrationsTable},
		{projections.Migrations(), projections.MigrationsTable},
	} {
		pending, err := eventstore.PendingMigrations(ctx, r.pool, m.fsys, m.table)
		if err != nil {
			return fmt.Errorf("migrations %s: %w", m.table, err)
		}
		if pending {
			return fmt.Errorf("migrations %s: not all applied", m.table)
		}
	}
	return nil
}
