package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/internal/app"
)

func newServeCommand(cfg *app.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API, relay the store to Kafka, run the projectors and the notifier (or the roles --roles names)",
		Args:  cobra.NoArgs,
	}
	var roles string
	env := &envFlags{}
	env.string(cmd.Flags(), &roles, "roles", "ROLES", app.AllRoles.String(), "what this instance runs, comma-separated: api, relay, projectors, notifier")
	pprof := cmd.Flags().Bool("pprof", false, "serve net/http/pprof on --metrics-addr (PPROF=true)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		env.applyEnv(cmd.Flags())
		c := *cfg
		c.Pprof = *pprof || (!cmd.Flags().Changed("pprof") && envBool("PPROF"))
		var err error
		if c.Roles, err = app.ParseRoles(roles); err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		c.OnStart = func(s app.Started) error { return printBanner(out, s) }
		return app.Run(cmd.Context(), c)
	}
	return cmd
}

func printBanner(out io.Writer, s app.Started) error {
	base := "http://" + displayAddr(s.Addr)
	fmt.Fprintf(out, "\nparticipation is up (roles: %s)\n", s.Roles)
	if s.Roles.API {
		fmt.Fprintf(out, "  API         %s   (spec: %s/openapi.json)\n", base, base)
		fmt.Fprintf(out, "  Share links %s/p/...   (PUBLIC_BASE_URL: what customers open and QR codes carry)\n", s.PublicBaseURL)
	} else {
		fmt.Fprintf(out, "  Ops         %s   (/healthz, /readyz)\n", base)
	}
	if s.MetricsAddr != nil {
		metrics := "http://" + displayAddr(s.MetricsAddr)
		if s.Pprof {
			fmt.Fprintf(out, "  Metrics     %s/metrics   (pprof: %s/debug/pprof/)\n", metrics, metrics)
		} else {
			fmt.Fprintf(out, "  Metrics     %s/metrics\n", metrics)
		}
	}
	fmt.Fprintf(out, "  PostgreSQL  %s\n", app.Redact(s.DatabaseURL))
	if len(s.Brokers) > 0 {
		fmt.Fprintf(out, "  Kafka       %s   topic %s\n", strings.Join(s.Brokers, ","), s.Topic)
	}
	if !s.Embedded || !s.Roles.API {
		fmt.Fprintf(out, "  Owner tokens: participation token --owner OWNER_ID\n\n")
		return nil
	}
	ttl := min(30*24*time.Hour, s.Tokens.WithDefaults().MaxTTL) // a month unless JWT_MAX_TTL is shorter
	token, err := s.Tokens.Issue(s.JWTSecret, app.DemoOwner, ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  Data        %s (embedded mode; delete it to start afresh)\n", s.DataDir)
	if s.PostgresDir != "" {
		fmt.Fprintf(out, "  PostgreSQL data  %s (the PostgreSQL user cannot enter %s; delete both to start afresh)\n", s.PostgresDir, s.DataDir)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "Owner dashboard (the token rides in the fragment, which the browser never sends):\n  %s/owner/#token=%s\n\n", base, token)
	fmt.Fprintf(out, "Owner token for %q (valid %s):\n  export TOKEN=%s\n\n", app.DemoOwner, ttlText(ttl), token)
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

// ttlText says a token's lifetime in days when it is whole days.
func ttlText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
