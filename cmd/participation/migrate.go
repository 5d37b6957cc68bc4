package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/internal/app"
)

func newMigrateCommand(cfg *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database schema (serve does this at start too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := app.Open(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			fmt.Fprintln(cmd.OutOrStdout(), "schema is up to date")
			return nil
		},
	}
}
