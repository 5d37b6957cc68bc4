package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/google/uuid"
)

func (e *env) section6(d *seededData) *Section {
	s := &Section{Number: 6, Title: titles[6], Status: "measured"}
	switch {
	case d == nil || d.err != nil:
		s.Status = fmt.Sprintf("error: seeding failed: %v", d.err)
		return s
	case errors.Is(d.readSide, errReadSideMissing):
		s.Status = "not measured: read side not wired yet (GET /api/v1/events/{id}/participants answers 503)"
		return s
	}
	large, small := d.large[0], d.small[0]
	visible, _, err := e.participantsTotal(large)
	if err != nil {
		s.Status = "error: " + err.Error()
		return s
	}
	if d.rebuilt > 0 {
		s.note("After seeding, the read models were rebuilt from the store (`participation projections rebuild --all`, %s) while serve kept running; then the bench waited %s for the live projectors.", d.rebuilt.Round(time.Second), d.waited.Round(time.Second))
	} else {
		s.note("The live projectors made the large campaign visible at about %.0f participants/s while the bench waited for them after the seeding (%s; the measurement started %s after the large campaign was seeded).", d.drainRate, d.waited.Round(time.Second), d.sinceSeeded.Round(time.Second))
	}
	s.note("Background work at the start of the measurement: %s.", e.backlog())
	if d.readSide != nil {
		s.Status = fmt.Sprintf("partly measured: %s after the large campaign was seeded the read side showed only %s of its %s participants (%v); the list and the CSV are measured over what it showed, while it kept projecting",
			d.sinceSeeded.Round(time.Second), groupThousands(fmt.Sprint(visible)), groupThousands(fmt.Sprint(e.o.large)), d.readSide)
	}
	size := e.o.listSize
	deep := max(1, int(visible)/size/2)
	s.detail("visible_at_start", visible)
	client := newClient(2)
	defer client.CloseIdleConnections()

	type pageRuns struct{ p50, p99 []float64 }
	pages := map[string]*pageRuns{"page 1": {}, "deep": {}, "healthz": {}}
	for rep := range e.o.reps {
		for _, name := range []string{"page 1", "deep", "healthz"} {
			path, owner := fmt.Sprintf("/api/v1/events/%s/participants?page=1&size=%d", large, size), true
			switch name {
			case "deep":
				path = fmt.Sprintf("/api/v1/events/%s/participants?page=%d&size=%d", large, deep, size)
			case "healthz":
				path, owner = "/healthz", false
			}
			lat := make([]time.Duration, 0, e.o.listRequests)
			for i := range e.o.listRequests {
				t0 := time.Now()
				status, body, err := e.call(e.ctx, client, http.MethodGet, path, nil, owner)
				elapsed := time.Since(t0)
				if err != nil || status != http.StatusOK {
					s.Status = fmt.Sprintf("error: GET %s: %d %v %.300s", path, status, err, body)
					return s
				}
				if i == 0 && name != "healthz" {
					var page struct {
						Participants []json.RawMessage `json:"participants"`
						TotalCount   int64             `json:"totalCount"`
					}
					if err := json.Unmarshal(body, &page); err != nil || len(page.Participants) != size || page.TotalCount < visible {
						s.Status = fmt.Sprintf("error: GET %s: %d rows, totalCount %d (%v)", path, len(page.Participants), page.TotalCount, err)
						return s
					}
				}
				lat = append(lat, elapsed)
			}
			st := latencies(lat)
			log.Printf("section 6: %s run %d: p50 %.2f ms p99 %.2f ms", name, rep+1, st.P50, st.P99)
			pages[name].p50 = append(pages[name].p50, st.P50)
			pages[name].p99 = append(pages[name].p99, st.P99)
		}
	}
	for _, name := range []string{"page 1", "deep"} {
		label := fmt.Sprintf("list page 1 (size %d) of %s", size, groupThousands(fmt.Sprint(visible)))
		if name == "deep" {
			label = fmt.Sprintf("list page %s (size %d) of %s: rows %s–%s", groupThousands(fmt.Sprint(deep)), size, groupThousands(fmt.Sprint(visible)),
				groupThousands(fmt.Sprint((deep-1)*size+1)), groupThousands(fmt.Sprint(deep*size)))
		}
		s.add(Row{Label: label + ", p50", Measured: newFigure("", "ms", pages[name].p50), Baseline: newFigure("healthz", "ms", pages["healthz"].p50)})
		row := Row{Label: label + ", p99", Measured: newFigure("", "ms", pages[name].p99), Baseline: newFigure("healthz", "ms", pages["healthz"].p99), Target: "< 20 ms"}
		row.Met = boolp(median(pages[name].p99) < 20)
		s.add(row)
	}
	s.note("List: %d sequential requests per page and repetition, one keep-alive client; baseline `GET /healthz` the same way (the HTTP floor).", e.o.listRequests)

	// CSV: time, and the serve process's peak RSS while streaming.
	pid := e.svc.pid()
	csvRuns := map[uuid.UUID]*csvStats{large: {}, small: {}}
	for rep := range e.o.reps {
		for _, id := range []uuid.UUID{small, large} {
			r, err := e.csvRun(pid, id)
			if err != nil {
				s.Status = "error: CSV: " + err.Error()
				return s
			}
			log.Printf("section 6: CSV %s run %d: %d rows, %.1f MB in %.2f s, peak RSS +%.1f MiB (from %.1f MiB)",
				id, rep+1, r.rows, float64(r.bytes)/1e6, r.seconds, r.growthMiB, r.rssBeforeMiB)
			c := csvRuns[id]
			c.seconds = append(c.seconds, r.seconds)
			c.growth = append(c.growth, r.growthMiB)
			c.rows, c.bytes = r.rows, r.bytes
			base, err := e.rawExport(id, r.rows)
			if err != nil {
				s.Status = "error: CSV baseline: " + err.Error()
				return s
			}
			c.base = append(c.base, base.Seconds())
		}
	}
	for _, id := range []uuid.UUID{small, large} {
		c := csvRuns[id]
		s.add(Row{Label: fmt.Sprintf("CSV of %s rows (%.1f MB): time", groupThousands(fmt.Sprint(c.rows)), float64(c.bytes)/1e6),
			Measured: newFigure("", "s", c.seconds), Baseline: newFigure("raw COPY TO", "s", c.base)})
	}
	gSmall, gLarge := median(csvRuns[small].growth), median(csvRuns[large].growth)
	row := Row{Label: fmt.Sprintf("CSV: serve's peak RSS growth, %s rows vs %s", groupThousands(fmt.Sprint(csvRuns[large].rows)), groupThousands(fmt.Sprint(csvRuns[small].rows))),
		Measured: newFigure(groupThousands(fmt.Sprint(csvRuns[large].rows)), "MiB", csvRuns[large].growth),
		Baseline: newFigure(groupThousands(fmt.Sprint(csvRuns[small].rows)), "MiB", csvRuns[small].growth),
		Target:   "constant memory (growth for the large ≤ growth for the small + 32 MiB)"}
	row.Met = boolp(gLarge <= gSmall+32)
	s.add(row)
	s.note("CSV: the whole body streamed and counted; the peak RSS of the serve process is reset before each export (`echo 5 > /proc/PID/clear_refs`) and read after it (VmHWM − VmRSS before). Baseline for the time: `COPY (SELECT data FROM events WHERE partition_key = … AND type = 'ParticipantRegistered' ORDER BY position LIMIT <rows of the CSV>) TO STDOUT` through pgx — the floor of streaming as many of the campaign's rows out of PostgreSQL.")
	s.detail("csv", map[string]any{"small": csvRuns[small].export(), "large": csvRuns[large].export()})
	return s
}

type csvStats struct {
	seconds, growth, base []float64
	rows, bytes           int64
}

func (c *csvStats) export() map[string]any {
	return map[string]any{"seconds": c.seconds, "peak_rss_growth_mib": c.growth, "baseline_seconds": c.base, "rows": c.rows, "bytes": c.bytes}
}

type csvResult struct {
	rows, bytes             int64
	seconds                 float64
	rssBeforeMiB, growthMiB float64
}

func (e *env) csvRun(pid int, eventID uuid.UUID) (csvResult, error) {
	r, err := e.streamRun(pid, fmt.Sprintf("/api/v1/events/%s/participants.csv", eventID), true)
	r.rows-- // the header
	return r, err
}

// streamRun GETs path, reads the whole body counting its bytes and lines,
// and measures serve's peak RSS growth while it streamed.
func (e *env) streamRun(pid int, path string, owner bool) (csvResult, error) {
	if err := resetPeakRSS(pid); err != nil {
		return csvResult{}, fmt.Errorf("reset peak RSS: %w", err)
	}
	before, err := procStatus(pid, "VmRSS")
	if err != nil {
		return csvResult{}, err
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.svc.base+path, nil)
	if err != nil {
		return csvResult{}, err
	}
	if owner {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	start := time.Now()
	resp, err := ownerClient.Do(req)
	if err != nil {
		return csvResult{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return csvResult{}, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var r csvResult
	br := bufio.NewReaderSize(resp.Body, 1<<16)
	buf := make([]byte, 1<<16)
	for {
		n, err := br.Read(buf)
		r.bytes += int64(n)
		r.rows += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF {
			break
		}
		if err != nil {
			return csvResult{}, err
		}
	}
	r.seconds = time.Since(start).Seconds()
	peak, err := procStatus(pid, "VmHWM")
	if err != nil {
		return csvResult{}, err
	}
	r.rssBeforeMiB = float64(before) / 1024
	r.growthMiB = float64(peak-before) / 1024
	return r, nil
}

// rawExport streams the campaign's registrations out of PostgreSQL.
func (e *env) rawExport(eventID uuid.UUID, rows int64) (time.Duration, error) {
	conn, err := e.app.Acquire(e.ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	start := time.Now()
	_, err = conn.Conn().PgConn().CopyTo(context.WithoutCancel(e.ctx), io.Discard,
		fmt.Sprintf(`COPY (SELECT data FROM events WHERE partition_key = %s AND type = 'ParticipantRegistered' ORDER BY position LIMIT %d) TO STDOUT`,
			quoteLiteral(eventID.String()), rows))
	return time.Since(start), err
}
