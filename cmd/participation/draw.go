package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/app"
	"github.com/shopevents/participation/internal/verifypublic"
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
			application, err := commands.New(eventstore.New(db.Pool), hcfg)
			if err != nil {
				return err
			}
			v, err := application.Queries.VerifyDraw.HandleAsOperator(cmd.Context(), drawID)
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
			if v.Replacements != "" {
				report["replacements"] = v.Replacements
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
	draw.AddCommand(newVerifyPublicCommand())
	return draw
}

// newVerifyPublicCommand checks a public draw certificate from outside,
// with nothing but the certificate and its leaves.
func newVerifyPublicCommand() *cobra.Command {
	var leaves string
	cmd := &cobra.Command{
		Use:   "verify-public URL|FILE",
		Short: "Check a draw's public certificate and its leaves; print ok or the first mismatch",
		Long: `Checks a public draw certificate as any entrant or auditor can, without the service's store.

URL is the certificate's address (.../api/v1/events/{eventId}/draw-certificate); its leaves
are fetched from URL/leaves. FILE is a saved certificate (JSON); its leaves are the JSON lines
file beside it, FILE with .json replaced by .leaves.jsonl (or --leaves), e.g.:

  curl -o certificate.json        $URL
  curl -o certificate.leaves.jsonl $URL/leaves

It rebuilds the Merkle root from the leaves (leafHash and weight as given), checks a drand
round's BLS signature offline against the chain info in the certificate (which must hash to
the committed chain hash) and that the round was due after the commit, recomputes the seed
and every winner, alternate and replacement, and prints ok (exit 0) or the first mismatch
(exit 1). A weight is bound to its leaf only inside the leaf hash: each entrant checks their
own leaf ({drawId}|{entryNumber}|{weight}) on the draw page.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := verifypublic.FileSource(args[0], leaves)
			if strings.HasPrefix(args[0], "http://") || strings.HasPrefix(args[0], "https://") {
				if leaves != "" {
					return errors.New("--leaves is for a FILE; a URL's leaves are URL/leaves")
				}
				src = verifypublic.URLSource(&http.Client{Timeout: 10 * time.Minute}, args[0])
			}
			if err := verifypublic.Verify(cmd.Context(), src); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
	cmd.Flags().StringVar(&leaves, "leaves", "", "the leaves' JSON lines file of a FILE (default: FILE with .json replaced by .leaves.jsonl)")
	return cmd
}
