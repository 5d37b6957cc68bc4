package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/embedded"
	"github.com/shopevents/participation/projections"
)

// demoOwner is the owner of the token the banner prints in the embedded mode.
const demoOwner = "owner-demo"

func newServeCommand(cfg *Config) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the API, relay the store to Kafka and run the projectors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			return serve(cmd.Context(), *cfg, cmd.OutOrStdout())
		},
	}
}

func serve(ctx context.Context, cfg Config, out io.Writer) error {
	logger := cfg.logger()
	jwtSecret, piiKey, err := secrets(cfg)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.close(logger)

	brokers := cfg.Brokers()
	if len(brokers) == 0 {
		broker, err := embedded.StartKafka(filepath.Join(cfg.DataDir, "kafka"), embedded.DefaultKafkaPort, cfg.KafkaTopic, 3)
		if err != nil {
			return err
		}
		defer broker.Stop()
		brokers = broker.Brokers()
		logger.Info("started the in-process Kafka broker", "brokers", strings.Join(brokers, ","))
	}

	app, err := newApp(appConfig{
		Pool: db.pool, Brokers: brokers, Topic: cfg.KafkaTopic,
		JWTSecret: jwtSecret, PIIKey: piiKey, Logger: logger,
	})
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	server := &http.Server{Handler: app.handler, ReadHeaderTimeout: 10 * time.Second}

	group, gctx := errgroup.WithContext(ctx)
	group.Go(func() error { return app.run(gctx) })
	group.Go(func() error {
		if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	group.Go(func() error {
		<-gctx.Done()
		// In-flight requests finish; new connections are refused.
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 15*time.Second)
		defer cancel()
		return server.Shutdown(shutdownCtx)
	})

	if err := printBanner(out, cfg, listener.Addr(), db.url, brokers, jwtSecret); err != nil {
		return err
	}
	err = group.Wait()
	app.close()
	logger.Info("stopped")
	return err
}

// appConfig is what the service is built from.
type appConfig struct {
	Pool      *pgxpool.Pool
	Brokers   []string
	Topic     string
	JWTSecret []byte
	PIIKey    []byte
	Logger    *slog.Logger
}

// app is the wired service: the HTTP handler and the background workers.
type app struct {
	handler  http.Handler
	store    *eventstore.Store
	commands *commands.Handlers
	batcher  *eventstore.Batcher
	relay    *eventstore.Relay
	readSide *readSide
}

func newApp(cfg appConfig) (*app, error) {
	store := eventstore.New(cfg.Pool)
	batcher := store.NewBatcher(eventstore.BatcherConfig{})
	handlers, err := commands.New(store, commands.Config{PIIKey: cfg.PIIKey, Batcher: batcher})
	if err != nil {
		batcher.Close()
		return nil, err
	}
	relay, err := store.NewRelay(eventstore.RelayConfig{
		Topic:     cfg.Topic,
		Connect:   func() (message.Publisher, error) { return eventstore.NewKafkaPublisher(cfg.Brokers, cfg.Logger) },
		Transform: publicMessage(cfg.Logger),
		Logger:    cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registry.MustRegister(relayLag(store, relay))
	readSide, err := newReadSide(cfg.Pool, cfg.Brokers, cfg.Topic, registry, cfg.Logger)
	if err != nil {
		return nil, err
	}
	handler := api.NewServer(api.Config{JWTSecret: cfg.JWTSecret, Registry: registry},
		newMeteredCommands(handlers, registry), readSide.api(), readiness{cfg.Pool}, cfg.Logger)
	return &app{handler: handler, store: store, commands: handlers, batcher: batcher, relay: relay, readSide: readSide}, nil
}

// close releases what newApp started; call it after the HTTP server stopped.
func (a *app) close() {
	a.batcher.Close()
	a.readSide.close()
}

// run runs the relay and the projectors until ctx ends.
func (a *app) run(ctx context.Context) error {
	group, gctx := errgroup.WithContext(ctx)
	group.Go(func() error { return ignoreCanceled(a.relay.Run(gctx)) })
	group.Go(func() error { return ignoreCanceled(a.readSide.run(gctx)) })
	return group.Wait()
}

// publicMessage publishes events with personal data masked: the topic's
// readers show only masked values, and the raw ones stay in the store.
func publicMessage(logger *slog.Logger) func(eventstore.RecordedEvent) *message.Message {
	return func(e eventstore.RecordedEvent) *message.Message {
		public, err := domain.PublicPayload(e.Type, e.Data)
		if err != nil {
			logger.Error("relay: cannot mask an event; publishing it without data", "position", e.Position, "err", err)
			public = []byte("{}")
		}
		e.Data = public
		return eventstore.ToMessage(e)
	}
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
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

// relayLag is the number of stored events not yet published.
func relayLag(store *eventstore.Store, relay *eventstore.Relay) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "participation_relay_lag_events",
		Help: "Events in the store not yet published to Kafka (store head minus published position).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		head, err := store.Head(ctx)
		if err != nil {
			return -1
		}
		return float64(head - relay.Position())
	})
}

func printBanner(out io.Writer, cfg Config, addr net.Addr, dbURL string, brokers []string, jwtSecret []byte) error {
	base := "http://" + displayAddr(addr)
	fmt.Fprintf(out, "\nparticipation is up\n")
	fmt.Fprintf(out, "  API         %s   (spec: %s/openapi.json, metrics: %s/metrics)\n", base, base, base)
	fmt.Fprintf(out, "  PostgreSQL  %s\n", redact(dbURL))
	fmt.Fprintf(out, "  Kafka       %s   topic %s\n", strings.Join(brokers, ","), cfg.KafkaTopic)
	if !cfg.Embedded() {
		fmt.Fprintf(out, "  Owner tokens: participation token --owner OWNER_ID\n\n")
		return nil
	}
	token, err := api.IssueToken(jwtSecret, demoOwner, 30*24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  Data        %s (embedded mode; delete it to start afresh)\n\n", cfg.DataDir)
	fmt.Fprintf(out, "Owner token for %q (30 days):\n  export TOKEN=%s\n\n", demoOwner, token)
	fmt.Fprintf(out, "Try:\n")
	fmt.Fprintf(out, "  curl -s -X POST %s/api/v1/events -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n", base)
	fmt.Fprintf(out, "    -d '{\"title\":\"오픈 기념 이벤트\",\"startsAt\":\"2026-01-01T00:00:00+09:00\",\"endsAt\":\"2030-01-01T00:00:00+09:00\",\"announceAt\":\"2030-01-02T00:00:00+09:00\"}'\n\n")
	return nil
}

func displayAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
