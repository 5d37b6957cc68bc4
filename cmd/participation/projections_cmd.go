package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/internal/app"
	"github.com/shopevents/participation/projections"
)

func newProjectionsCommand(cfg *app.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "projections",
		Short: "Rebuild the read models from the event store, or show how far each projection has got",
	}
	cmd.AddCommand(newRebuildCommand(cfg), newStatusCommand(cfg))
	return cmd
}

func newRebuildCommand(cfg *app.Config) *cobra.Command {
	var (
		all        bool
		opts       projections.RebuildOptions
		timing     bool
		cpuProfile string
	)
	cmd := &cobra.Command{
		Use:   "rebuild [" + strings.Join(projections.Names(), "|") + " ...|--all]",
		Short: "Replay the event store into fresh read model tables and swap them in",
		Long: `Replays the event store (never Kafka) into fresh tables in a schema of its own, then swaps
them in atomically. Queries keep answering from the live tables meanwhile, and running
projectors keep consuming: nothing they apply is lost or applied twice. Interrupting it
(Ctrl-C) leaves the live tables untouched.

With --verify the rebuilt tables are compared with the live ones before the swap (the live
projectors' writes wait meanwhile); the command then exits non-zero when they differ.
With --dry-run the live tables are kept.`,
		ValidArgs: projections.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return errors.New("name projections or give --all, not both")
			case !all && len(args) == 0:
				return fmt.Errorf("name the projections to rebuild (%s) or give --all", strings.Join(projections.Names(), ", "))
			}
			for _, a := range args {
				if !slices.Contains(projections.Names(), a) {
					return fmt.Errorf("unknown projection %q (known: %s)", a, strings.Join(projections.Names(), ", "))
				}
			}
			db, logger, err := app.Open(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer db.Close()

			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts.Projections, opts.Logger = args, logger
			opts.Progress = rebuildProgress(errOut)
			_, piiKey, err := app.Secrets(*cfg)
			if err != nil {
				return err
			}
			if opts.Publicize, err = app.Publicizer(db.Pool, piiKey, logger); err != nil {
				return err
			}
			if opts.ReplayPublicize, err = app.ReplayPublicizer(db.Pool, piiKey, logger); err != nil {
				return err
			}
			// The replay allocates gigabytes of short-lived values over a small
			// live heap (the participants' map holds no pointers): collecting
			// less often leaves the CPU to the rebuild. GOGC, when set, wins.
			if os.Getenv("GOGC") == "" {
				defer debug.SetGCPercent(debug.SetGCPercent(400))
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			report, err := projections.Rebuild(cmd.Context(), db.Pool, opts)
			if err != nil {
				if cmd.Context().Err() != nil {
					return errors.New("rebuild interrupted: the live tables are untouched")
				}
				return err
			}
			printRebuild(out, report, timing)
			if report.Differs() {
				return errors.New("verify: the rebuilt tables differ from the live ones")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "rebuild every projection")
	f.BoolVar(&opts.Verify, "verify", false, "compare the rebuilt tables with the live ones and report the differences")
	f.BoolVar(&opts.DryRun, "dry-run", false, "build (and verify) but keep the live tables")
	f.IntVar(&opts.PageSize, "page-size", 20_000, "events read per query")
	f.DurationVar(&opts.LockTimeout, "lock-timeout", 5*time.Second, "longest wait for a lock in the swap before it is retried")
	f.BoolVar(&timing, "timing", true, "print the time of each phase")
	f.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the rebuild to this file (go tool pprof reads it)")
	return cmd
}

// startCPUProfile profiles the process into path until stop is called: a
// rebuild is a CLI run, with no serve --pprof to ask.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// rebuildProgress shows the replay with a bar (plain lines when not on a
// terminal) and the later phases as lines.
func rebuildProgress(out io.Writer) func(projections.RebuildProgress) {
	var (
		bar   *progress
		phase string
	)
	return func(p projections.RebuildProgress) {
		if p.Phase != phase {
			if bar != nil {
				bar.Set(bar.total)
				bar.Done()
				bar = nil
			}
			phase = p.Phase
			switch phase {
			case projections.PhaseIndex:
				fmt.Fprintln(out, "building indexes")
			case projections.PhaseCatchUp:
				fmt.Fprintln(out, "catching up with events appended meanwhile")
			case projections.PhaseSwap:
				fmt.Fprintln(out, "swapping the tables in")
			}
		}
		if phase == projections.PhaseReplay && p.Target > 0 {
			if bar == nil {
				bar = newProgress(out, p.Target, "replaying events")
			}
			bar.Set(p.Position)
		}
	}
}

func printRebuild(out io.Writer, r projections.RebuildReport, timing bool) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "projection\tevents applied\ttime\tevents/s\t")
	for _, p := range r.Projections {
		fmt.Fprintf(w, "%s\t%d\t%s\t%.0f\t\n", p.Name, p.Applied, r.Total.Round(time.Millisecond),
			float64(p.Applied)/max(r.Total.Seconds(), 1e-9))
	}
	w.Flush()
	fmt.Fprintf(out, "replayed %d events up to position %d in %s: %.0f events/s",
		r.Events, r.Position, r.Total.Round(time.Millisecond), r.EventsPerSecond())
	if r.Poison > 0 {
		fmt.Fprintf(out, " (%d skipped: no projection can apply them)", r.Poison)
	}
	fmt.Fprintln(out)
	if timing {
		fmt.Fprintf(out, "  replay %s (%d events, %.0f/s), indexes %s, catch-up %s, swap %s (attempts: %d)\n",
			r.Replay.Round(time.Millisecond), r.ReplayEvents, float64(r.ReplayEvents)/max(r.Replay.Seconds(), 1e-9),
			r.Index.Round(time.Millisecond), r.CatchUp.Round(time.Millisecond), r.Swap.Round(time.Millisecond), r.SwapAttempts)
	}
	if r.Diffs != nil {
		printDiffs(out, r)
	}
	if r.Swapped {
		fmt.Fprintln(out, "the rebuilt tables are live")
	} else {
		fmt.Fprintln(out, "dry run: the live tables are kept")
	}
}

func printDiffs(out io.Writer, r projections.RebuildReport) {
	fmt.Fprintln(out, "verify:")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  table\tlive rows\trebuilt rows\tonly live\tonly rebuilt\tdifferent\tfirst differing keys")
	for _, d := range r.Diffs {
		keys := strings.Join(d.Keys, " ")
		if !d.Differs() {
			keys = "identical"
		}
		fmt.Fprintf(w, "  %s\t%d\t%d\t%d\t%d\t%d\t%s\n", d.Table, d.LiveRows, d.RebuiltRows, d.OnlyLive, d.OnlyRebuilt, d.Different, keys)
	}
	w.Flush()
	if len(r.Lagging) > 0 {
		fmt.Fprintf(out, "  not compared, the live projection had not caught up: %s\n", strings.Join(r.Lagging, " "))
	}
}

func newStatusCommand(cfg *app.Config) *cobra.Command {
	var stallAfter time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each projection's position, the store's head and the lag; exit non-zero when one is stalled",
		Long: `Shows each projection's position, the event store's head, and the lag in events and in
seconds (the age of the oldest event not consumed yet). A projection is stalled when it lags
and its position has not moved for longer than --stall-after while events were waiting;
the command then exits non-zero.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := app.Open(cmd.Context(), *cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			status, err := projections.Status(cmd.Context(), db.Pool)
			if err != nil {
				return err
			}
			var stalled []string
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "projection\tposition\thead\tlag (events)\tlag (s)\tmoved\tstate")
			for _, s := range status {
				state := "ok"
				switch {
				case s.Stalled(stallAfter):
					state = "STALLED"
					stalled = append(stalled, s.Name)
				case s.Lag > 0:
					state = "catching up"
				}
				moved := "never"
				if !s.UpdatedAt.IsZero() {
					moved = time.Since(s.UpdatedAt).Round(time.Second).String() + " ago"
				}
				fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\n", s.Name, s.Position, s.Head, s.Lag, s.LagTime.Seconds(), moved, state)
			}
			w.Flush()
			if len(stalled) > 0 {
				return fmt.Errorf("stalled (behind, position unmoved for over %s): %s", stallAfter, strings.Join(stalled, ", "))
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&stallAfter, "stall-after", 30*time.Second, "a lagging projection whose position has not moved for this long is stalled")
	return cmd
}
