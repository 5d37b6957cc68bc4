package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/app"
	"github.com/shopevents/participation/internal/backoff"
)

func newRelayCommand(cfg *app.Config) *cobra.Command {
	cmd := &cobra.Command{Use: "relay", Short: "Events Kafka refused for good (parked) and sending them again"}
	cmd.AddCommand(&cobra.Command{
		Use:   "parked",
		Short: "List parked events: those Kafka refused, and the later events of their campaigns held behind them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := app.Open(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			parked, err := eventstore.New(db.Pool).ParkedEvents(cmd.Context())
			if err != nil {
				return err
			}
			printParked(cmd.OutOrStdout(), parked)
			return nil
		},
	})
	var all bool
	var wait time.Duration
	retry := &cobra.Command{
		Use:   "retry [EVENT_ID...|--all]",
		Short: "Send refused events again (the leading relay sends them, then their campaigns' held events, in order)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("name refused event ids or --all, not both")
			}
			ids := make([]uuid.UUID, len(args))
			for i, a := range args {
				id, err := uuid.Parse(a)
				if err != nil {
					return fmt.Errorf("EVENT_ID %q: %w", a, err)
				}
				ids[i] = id
			}
			db, _, err := app.Open(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			return retryParked(cmd.Context(), cmd.OutOrStdout(), eventstore.New(db.Pool), ids, wait)
		},
	}
	retry.Flags().BoolVar(&all, "all", false, "every refused event")
	retry.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the relay's answer")
	cmd.AddCommand(retry)
	return cmd
}

func printParked(out io.Writer, parked []eventstore.ParkedEvent) {
	if len(parked) == 0 {
		fmt.Fprintln(out, "no parked events")
		return
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EVENT_ID\tPOSITION\tCAMPAIGN\tTYPE\tSTATE\tPARKED_AT\tERROR")
	behind := ""
	for i, p := range parked {
		if i == 0 || parked[i-1].Campaign != p.Campaign {
			behind = ""
		}
		state := "held behind " + behind
		if p.Refused {
			state, behind = "refused", p.EventID.String()
			if p.RetryRequested {
				state = "refused, retry asked"
			}
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p.EventID, p.Position, p.Campaign, p.Type, state,
			p.ParkedAt.UTC().Format(time.RFC3339), p.Error)
	}
	_ = w.Flush()
}

// retryParked asks for the retry and waits until the relay has sent the
// events (their rows are gone) or Kafka refused them again.
func retryParked(ctx context.Context, out io.Writer, store *eventstore.Store, ids []uuid.UUID, wait time.Duration) error {
	asked, err := store.RequestRetry(ctx, ids)
	if err != nil {
		return err
	}
	if len(asked) == 0 {
		fmt.Fprintln(out, "no refused events to retry")
		return nil
	}
	pending := map[uuid.UUID]bool{}
	for _, id := range asked {
		pending[id] = true
	}
	deadline := time.Now().Add(wait)
	var refusedAgain []eventstore.ParkedEvent
	for {
		parked, err := store.ParkedEvents(ctx)
		if err != nil {
			return err
		}
		open, held := 0, 0
		refusedAgain = refusedAgain[:0]
		for _, p := range parked {
			switch {
			case pending[p.EventID] && p.RetryRequested:
				open++
			case pending[p.EventID]:
				refusedAgain = append(refusedAgain, p)
			case !p.Refused:
				held++
			}
		}
		if open == 0 {
			fmt.Fprintf(out, "%d sent, %d refused again, %d held events still parked\n", len(asked)-len(refusedAgain), len(refusedAgain), held)
			for _, p := range refusedAgain {
				fmt.Fprintf(out, "refused again: %s (%s): %s\n", p.EventID, p.Type, p.Error)
			}
			if len(refusedAgain) > 0 {
				return fmt.Errorf("%d events refused again", len(refusedAgain))
			}
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(out, "retry asked for %d events; no relay answered within %s (the leading relay sends them when it runs)\n", open, wait)
			return nil
		}
		if !backoff.Sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}
