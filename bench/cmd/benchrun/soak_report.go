package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The soak's verdicts and its report.

// write puts the soak's report into dir as soak-latest.md and soak-latest.json.
func (r *soakReport) write(dir string) error {
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "soak-latest.json"), append(j, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "soak-latest.md"), []byte(r.Markdown()), 0o644)
}

// withinTenPercent says whether b is within ±10 % of a.
func withinTenPercent(a, b float64) bool {
	return a > 0 && b >= 0.9*a && b <= 1.1*a
}

// trend is the median of minutes 2–4 (minute 1 warms up, minute 0 is idle)
// and the median of the last three whole minutes of a series. A row of
// fewer than trendSamples samples is the load's last moments after its last
// whole minute: its latencies count, its gauges are too few for a trend.
func (r *soakReport) trend(f func(soakMinute) int64) (early, late float64, ok bool) {
	var whole []soakMinute
	for _, m := range r.Minutes {
		if m.Minute > 0 && m.Samples >= trendSamples {
			whole = append(whole, m)
		}
	}
	if len(whole) < 6 {
		return 0, 0, false
	}
	var a, b []float64
	for _, m := range whole[1:4] {
		a = append(a, float64(f(m)))
	}
	for _, m := range whole[len(whole)-3:] {
		b = append(b, float64(f(m)))
	}
	return median(a), median(b), true
}

// trendSamples is how many samples (one a second) make a minute's gauges.
const trendSamples = 30

func (r *soakReport) verdicts() (memFlat, gorFlat, noErrors, exact bool) {
	if early, late, ok := r.trend(func(m soakMinute) int64 { return m.RSSKiB }); ok {
		memFlat = withinTenPercent(early, late)
	}
	if early, late, ok := r.trend(func(m soakMinute) int64 { return m.Own }); ok {
		gorFlat = withinTenPercent(early, late) && withinTenPercent(float64(r.Idle[0]), float64(r.Idle[1]))
	}
	noErrors = len(r.Errors) == 0
	exact = len(r.Checks) > 0
	for _, c := range r.Checks {
		exact = exact && c.OK
	}
	return
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**NO**"
}

// Markdown renders the report.
func (r *soakReport) Markdown() string {
	var b strings.Builder
	h := r.Header
	fmt.Fprintf(&b, "# Soak report\n\n`%s`: %s at %d registrations/s over %d campaigns on %s.\n\n", h.Command,
		time.Duration(r.Duration*float64(time.Second)), r.Rate, r.Campaigns, h.Date)
	fmt.Fprintf(&b, "- commit %s; %s × %d, %s; %s (fsync=%s, synchronous_commit=%s); Kafka: kfake in the harness\n\n",
		h.GitCommit, h.CPUModel, h.CPUCount, h.GoVersion, h.PostgresVersion, h.Fsync, h.SynchronousCommit)
	memFlat, gorFlat, noErrors, exact := r.verdicts()
	fmt.Fprintf(&b, "| target | met |\n| --- | --- |\n| %d registrations/s sustained (achieved %.0f/s, ≥ 97 %%) | %s |\n| RSS flat: median of the last 3 minutes within ±10 %% of minutes 2–4 | %s |\n| goroutines flat: the service's own (the gauge less the client's connections and requests in flight) the same, and idle after the load within ±10 %% of idle before (%d → %d) | %s |\n| zero errors (non-201 answers, transport errors) | %s |\n| every registration in every read model (exact) | %s |\n\n",
		r.Rate, r.Achieved, yesNo(r.Achieved >= 0.97*float64(r.Rate)), yesNo(memFlat), r.Idle[0], r.Idle[1], yesNo(gorFlat), yesNo(noErrors), yesNo(exact))
	b.WriteString("## Per minute\n\n| minute | RSS MiB | goroutines | client connections | in flight | service's own | samples | sent | 201 | errors | p50 ms | p99 ms | visible in the list | load |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, m := range r.Minutes {
		fmt.Fprintf(&b, "| %d | %.1f | %d | %d | %d | %d | %d | %d | %d | %d | %.1f | %.1f | %d | %.1f |\n", m.Minute, float64(m.RSSKiB)/1024, m.Goroutines,
			m.Connections, m.InFlight, m.Own, m.Samples, m.Sent, m.Created, m.Errors, m.Latency.P50, m.Latency.P99, m.Visible, m.Load)
	}
	fmt.Fprintf(&b, "\nMinute 0 is the idle service before the load. Counts are cumulative; latencies are of the requests answered in that minute. The goroutines gauge under load includes one per open client connection and one per request in flight (up to 1,024), both the load generator's doing: the connections it keeps open follow the latency peaks of the last 90 s (its idle timeout). The service's own is the gauge less those, read a moment apart, so it is good to a few goroutines. RSS and the goroutine columns are medians of the minute's samples, one a second; a row of fewer than 30 (the load's last moments after its last whole minute) is left out of the trend.\n\n## Read models against the event store (after %.1f s of catch-up)\n\n| campaign | read model | store | read model | missing | extra | ok |\n| --- | --- | ---: | ---: | ---: | ---: | --- |\n", r.CatchUp)
	for _, c := range r.Checks {
		ok := yesNo(c.OK)
		if c.Note != "" {
			ok += " (" + c.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %s |\n", c.Campaign.String()[:8], c.ReadModel, c.Store, c.Read, c.Missing, c.Extra, ok)
	}
	if len(r.ReadSide) > 0 {
		b.WriteString("\n## Read side\n\n")
		for _, e := range r.ReadSide {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	b.WriteString("\n## Errors\n\n")
	if len(r.Errors) == 0 {
		b.WriteString("None.\n")
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}
