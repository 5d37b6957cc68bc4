package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a bar on a terminal and plain lines (at most one every
// two seconds) otherwise, so logs of a CI job stay readable.
type progress struct {
	bar   *progressbar.ProgressBar
	out   io.Writer
	total int64
	label string
	start time.Time
	last  time.Time
}

func newProgress(out io.Writer, total int64, label string) *progress {
	p := &progress{out: out, total: total, label: label, start: time.Now()}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("events"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// Set reports done out of total.
func (p *progress) Set(done int64) {
	if p.bar != nil {
		_ = p.bar.Set64(done)
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 2*time.Second || done >= p.total {
		p.last = now
		elapsed := now.Sub(p.start).Seconds()
		rate := float64(done) / max(elapsed, 1e-9)
		eta := "?"
		if rate > 0 {
			eta = (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(p.out, "%s: %d/%d (%.0f/s, ETA %s)\n", p.label, done, p.total, rate, eta)
	}
}

// Done finishes the bar.
func (p *progress) Done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
