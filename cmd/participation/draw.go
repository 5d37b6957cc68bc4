package main

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/app"
)

func newDrawCommand(cfg *app.Config) *cobra.Command {
	draw := &cobra.Command{Use: "draw", Short: "Inspect draws"}
	draw.AddCommand(&cobra.Command{
		Use:   "verify DRAW_LOG_ID",
		Short: "Recompute a draw from the event store and compare it with what was recorded",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			drawID, err := uuid.Parse(args[0])
			if err != nil {
				return fmt.Errorf("DRAW_LOG_ID: %w", err)
			}
			db, _, err := app.Open(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			_, piiKey, err := app.Secrets(*cfg)
			if err != nil {
				return err
			}
			hcfg := commands.Config{PIIKey: piiKey}
			// a drand draw's round is checked against DRAND_CHAIN_HASH's chain,
			// whatever DRAW_RANDOMNESS says today
			if cfg.Draw.URLs != "" && cfg.Draw.ChainHash != "" {
				if hcfg.Beacon, err = beacon.New(cfg.Draw); err != nil {
					return err
				}
			}
			handlers, err := commands.New(eventstore.New(db.Pool), hcfg)
			if err != nil {
				return err
			}
			v, err := handlers.VerifyDrawAsOperator(cmd.Context(), drawID)
			if err != nil {
				return err
			}
			report := map[string]any{
				"verified":       v.Result.Verified,
				"mismatches":     v.Result.Mismatches,
				"drawLogId":      v.Draw.DrawID,
				"eventId":        v.Draw.EventID,
				"algorithm":      v.Draw.Algorithm,
				"candidateCount": v.Draw.CandidateCount,
				"cutoffPosition": v.Draw.CutoffPosition,
			}
			if v.Commit != nil { // v2: the committed root, and the alternates checked with the winners
				report["candidatesRoot"] = v.Commit.CandidatesRoot
				report["alternateCount"] = v.Commit.AlternateCount
				report["randomness"] = v.Commit.Randomness
			} else {
				report["candidatesDigest"] = v.Draw.CandidatesDigest
			}
			out, _ := json.MarshalIndent(report, "", "  ")
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			if !v.Result.Verified {
				return fmt.Errorf("draw %s does not verify", drawID)
			}
			return nil
		},
	})
	return draw
}
