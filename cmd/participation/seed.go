package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/app"
	"github.com/shopevents/participation/internal/seed"
)

func newSeedCommand(cfg *app.Config) *cobra.Command {
	var (
		campaigns, participants int
		visitRatio              float64
		owner                   string
		announced               bool
	)
	cmd := &cobra.Command{
		Use:   "seed --campaigns N --participants M",
		Short: "Write synthetic campaigns and participants as real events, for demos and benchmarks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			logger := cfg.Logger()
			_, piiKey, err := app.Secrets(*cfg)
			if err != nil {
				return err
			}
			db, err := app.OpenDatabase(cmd.Context(), *cfg, logger)
			if err != nil {
				return err
			}
			defer db.Close()
			bar := newProgress(cmd.ErrOrStderr(), int64(campaigns*participants), "seeding participants")
			start := time.Now()
			ids, err := seed.Run(cmd.Context(), eventstore.New(db.Pool), seed.Config{
				Campaigns: campaigns, Participants: participants, VisitRatio: visitRatio,
				OwnerID: owner, PIIKey: piiKey, Announced: announced,
			}, func(n int) { bar.Set(int64(n)) })
			bar.Done()
			for _, id := range ids {
				fmt.Fprintf(cmd.OutOrStdout(), "campaign %s (owner %s)\n", id, owner)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "seeded %d campaigns × %d participants in %s\n",
				campaigns, participants, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().IntVar(&campaigns, "campaigns", 1, "how many campaigns")
	cmd.Flags().IntVar(&participants, "participants", 1000, "participants per campaign")
	cmd.Flags().Float64Var(&visitRatio, "visit-ratio", 0.2, "share of participants who visited the store")
	cmd.Flags().StringVar(&owner, "owner", app.DemoOwner, "the campaigns' owner id")
	cmd.Flags().BoolVar(&announced, "announced", false, "the campaigns end and are announced now (a draw's leaves are public at once)")
	return cmd
}
