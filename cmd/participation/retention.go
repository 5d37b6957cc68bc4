package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/app"
)

func newRetentionCommand(cfg *app.Config) *cobra.Command {
	retention := &cobra.Command{Use: "retention", Short: "Erase personal data whose retention ended"}
	var dryRun bool
	run := &cobra.Command{
		Use:   "run [--dry-run]",
		Short: "Erase what retention says is due now (the relay's leader also does it every hour)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := app.Open(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			_, piiKey, err := app.Secrets(*cfg)
			if err != nil {
				return err
			}
			application, err := commands.New(eventstore.New(db.Pool), commands.Config{PIIKey: piiKey})
			if err != nil {
				return err
			}
			r, err := application.Commands.RunRetention.Handle(cmd.Context(), commands.RunRetention{Now: time.Now(),
				NonWinners: cfg.RetentionNonWinners, Winners: cfg.RetentionWinners, DryRun: dryRun})
			fmt.Fprintf(cmd.OutOrStdout(), "campaigns past retention: %d, participants due: %d, erased: %d, campaign keys destroyed: %d%s\n",
				r.Campaigns, r.Due, r.Erased, r.KeysDestroyed, map[bool]string{true: " (dry run)"}[dryRun])
			return err
		},
	}
	run.Flags().BoolVar(&dryRun, "dry-run", false, "count what is due, erase nothing")
	retention.AddCommand(run)
	return retention
}
