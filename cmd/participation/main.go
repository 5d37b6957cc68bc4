// Command participation serves the participation service and operates it:
// serve, migrate, token, projections, draw verify, seed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
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
	cfg := &Config{}
	root := &cobra.Command{
		Use:           "participation",
		Short:         "Customer participation for store marketing events (event-sourced CQRS)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cfg.bindFlags(root)
	root.AddCommand(
		newServeCommand(cfg),
		newMigrateCommand(cfg),
		newTokenCommand(cfg),
		newDrawCommand(cfg),
		newSeedCommand(cfg),
		newProjectionsCommand(cfg),
	)
	return root
}
