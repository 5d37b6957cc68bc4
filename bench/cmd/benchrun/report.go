package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Report is what latest.json holds; latest.md is rendered from it.
type Report struct {
	Header   Header     `json:"header"`
	Sections []*Section `json:"sections"`
	Profile  *Profile   `json:"profile,omitempty"`
	Notes    []string   `json:"notes,omitempty"`
}

// Header describes the machine and the run.
type Header struct {
	Date              string  `json:"date"`
	GitCommit         string  `json:"git_commit"`
	CPUCount          int     `json:"cpu_count"`
	CPUModel          string  `json:"cpu_model"`
	GoVersion         string  `json:"go_version"`
	PostgresVersion   string  `json:"postgres_version"`
	Fsync             string  `json:"fsync"`
	SynchronousCommit string  `json:"synchronous_commit"`
	FullPageWrites    string  `json:"full_page_writes"`
	Repetitions       int     `json:"repetitions"`
	DurationSeconds   float64 `json:"total_duration_s"`
	Command           string  `json:"command"`
}

// Section is one of the six measured areas.
type Section struct {
	Number int      `json:"number"`
	Title  string   `json:"title"`
	Status string   `json:"status"` // "measured", "partly measured: ...", "not measured: ...", "error: ..."
	Rows   []Row    `json:"rows"`
	Notes  []string `json:"notes,omitempty"`
	// Details keeps per-run figures that do not fit the table.
	Details map[string]any `json:"details,omitempty"`
}

// Figure is a measured quantity: the median of its runs.
type Figure struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Median float64   `json:"median"`
	Runs   []float64 `json:"runs"`
}

func newFigure(name, unit string, runs []float64) *Figure {
	return &Figure{Name: name, Unit: unit, Median: median(runs), Runs: runs}
}

// Row is one line of a section's table: a figure, its baseline, their
// ratio (always measured ÷ baseline) and the DESIGN target.
type Row struct {
	Label    string   `json:"label"`
	Measured *Figure  `json:"measured,omitempty"`
	Baseline *Figure  `json:"baseline,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"`
	Target   string   `json:"target,omitempty"`
	Met      *bool    `json:"met,omitempty"`
}

// Profile is the CPU profile of serve under the heaviest registration load.
type Profile struct {
	During string   `json:"during"`
	File   string   `json:"file"`
	Text   string   `json:"text_file"`
	Top    []string `json:"top"`
}

func ratio(measured, baseline *Figure) *float64 {
	if measured == nil || baseline == nil || baseline.Median == 0 {
		return nil
	}
	r := measured.Median / baseline.Median
	return &r
}

func boolp(b bool) *bool { return &b }

func (s *Section) add(r Row) {
	if r.Ratio == nil {
		r.Ratio = ratio(r.Measured, r.Baseline)
	}
	s.Rows = append(s.Rows, r)
}

func (s *Section) note(format string, args ...any) {
	s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
}

func (s *Section) detail(key string, v any) {
	if s.Details == nil {
		s.Details = map[string]any{}
	}
	s.Details[key] = v
}

func num(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1000:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 0.1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (f *Figure) cell() string {
	if f == nil {
		return "—"
	}
	runs := make([]string, len(f.Runs))
	for i, r := range f.Runs {
		runs[i] = num(r)
	}
	out := strings.TrimSpace(fmt.Sprintf("**%s** %s", num(f.Median), f.Unit))
	if len(f.Runs) > 1 {
		out += fmt.Sprintf(" (%s)", strings.Join(runs, " / "))
	}
	if f.Name != "" {
		out = f.Name + ": " + out
	}
	return out
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	h := r.Header
	fmt.Fprintf(&b, "# Participation benchmarks\n\n")
	fmt.Fprintf(&b, "| | |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| date | %s |\n| git commit | `%s` |\n| CPU | %d × %s |\n| Go | %s |\n| PostgreSQL | %s |\n",
		h.Date, h.GitCommit, h.CPUCount, h.CPUModel, h.GoVersion, h.PostgresVersion)
	fmt.Fprintf(&b, "| durability | fsync=%s, synchronous_commit=%s, full_page_writes=%s |\n", h.Fsync, h.SynchronousCommit, h.FullPageWrites)
	fmt.Fprintf(&b, "| repetitions | %d per figure unless noted; each cell is the **median** (runs in brackets) |\n", h.Repetitions)
	fmt.Fprintf(&b, "| total time | %.0f s (`%s`) |\n\n", h.DurationSeconds, h.Command)
	fmt.Fprintf(&b, "Ratio = measured ÷ baseline, both measured in this run on the same PostgreSQL. For throughputs higher is better; for times and latencies lower is better. The machine is shared and noisy: compare ratios, not absolute figures, across runs.\n\n")
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	for _, s := range r.Sections {
		fmt.Fprintf(&b, "## %d. %s\n\n", s.Number, s.Title)
		if s.Status != "measured" {
			fmt.Fprintf(&b, "**%s**\n\n", s.Status)
		}
		if len(s.Rows) > 0 {
			b.WriteString("| measurement | measured | baseline | ratio | target | met |\n| --- | --- | --- | --- | --- | --- |\n")
			for _, row := range s.Rows {
				ratioCell, met := "—", "—"
				if row.Ratio != nil {
					ratioCell = fmt.Sprintf("%.2f×", *row.Ratio)
				}
				if row.Met != nil {
					met = map[bool]string{true: "✅ met", false: "❌ missed"}[*row.Met]
				}
				target := row.Target
				if target == "" {
					target = "—"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Label, row.Measured.cell(), row.Baseline.cell(), ratioCell, target, met)
			}
			b.WriteString("\n")
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(s.Notes) > 0 {
			b.WriteString("\n")
		}
	}
	if p := r.Profile; p != nil {
		fmt.Fprintf(&b, "## CPU profile of `serve` (%s)\n\n", p.During)
		fmt.Fprintf(&b, "`%s` (`go tool pprof -top %s`), full list in `%s`. Top by flat CPU:\n\n```\n%s\n```\n",
			p.File, p.File, p.Text, strings.Join(p.Top, "\n"))
	}
	return b.String()
}

func (r *Report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latest.md"), []byte(r.Markdown()), 0o644)
}
