// Command participation serves the participation service and operates it:
// serve, migrate, token, projections, draw verify, seed. The wiring lives in
// internal/app; this is only its command line.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		stop()
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	cfg := &app.Config{}
	root := &cobra.Command{
		Use:           "participation",
		Short:         "Customer participation for store marketing events (event-sourced CQRS)",
		Long:          "Customer participation for store marketing events (event-sourced CQRS).\n\n" + secretsHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	env := bindFlags(root, cfg)
	// Every subcommand sees the environment applied after its flags parsed,
	// then the defaults of what neither gave.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := refuseSecretFlags(cmd.Flags()); err != nil {
			return err
		}
		env.applyEnv(cmd.Flags())
		if err := applySecrets(cfg, os.LookupEnv); err != nil {
			return err
		}
		cfg.SetDefaults()
		return nil
	}
	root.AddCommand(
		newServeCommand(cfg),
		newMigrateCommand(cfg),
		newTokenCommand(cfg),
		newDrawCommand(cfg),
		newSeedCommand(cfg),
		newProjectionsCommand(cfg),
		newRetentionCommand(cfg),
		newRelayCommand(cfg),
	)
	return root
}
