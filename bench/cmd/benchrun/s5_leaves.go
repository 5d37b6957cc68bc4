package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// leavesRows measures (c): the public certificate's leaves of a drawn small
// and large campaign streamed over HTTP (the campaigns are seeded announced,
// so the leaves are public at once), their time against COPY of the rows
// they are made from, and serve's peak RSS growth, large against small.
func (e *env) leavesRows(s *Section, small, large uuid.UUID) error {
	type runs struct {
		seconds, growth, base []float64
		rows, bytes           int64
	}
	pid := e.svc.pid()
	got := map[uuid.UUID]*runs{small: {}, large: {}}
	for _, id := range []uuid.UUID{small, large} {
		n, err := e.certificateCandidates(id)
		if err != nil {
			return err
		}
		got[id].rows = int64(n)
	}
	for rep := range e.o.reps {
		for _, id := range []uuid.UUID{small, large} {
			r, err := e.streamRun(pid, fmt.Sprintf("/api/v1/events/%s/draw-certificate/leaves", id), false)
			if err != nil {
				return fmt.Errorf("leaves of %s: %w", id, err)
			}
			g := got[id]
			if r.rows != g.rows {
				return fmt.Errorf("leaves of %s: %d lines, the certificate says %d candidates", id, r.rows, g.rows)
			}
			base, err := e.rawLeaves(id)
			if err != nil {
				return fmt.Errorf("leaves baseline: %w", err)
			}
			log.Printf("section 5: leaves of %s run %d: %d lines, %.1f MB in %.2f s (COPY %.2f s), peak RSS +%.1f MiB (from %.1f MiB)",
				id, rep+1, r.rows, float64(r.bytes)/1e6, r.seconds, base.Seconds(), r.growthMiB, r.rssBeforeMiB)
			g.seconds, g.growth, g.base = append(g.seconds, r.seconds), append(g.growth, r.growthMiB), append(g.base, base.Seconds())
			g.bytes = r.bytes
		}
	}
	for _, id := range []uuid.UUID{small, large} {
		g := got[id]
		s.add(Row{Label: fmt.Sprintf("(c) GET draw-certificate/leaves, %s leaves (%.1f MB): time", groupThousands(fmt.Sprint(g.rows)), float64(g.bytes)/1e6),
			Measured: newFigure("", "s", g.seconds), Baseline: newFigure("raw COPY TO", "s", g.base)})
	}
	gs, gl := got[small], got[large]
	row := Row{Label: fmt.Sprintf("(c) leaves: serve's peak RSS growth, %s leaves vs %s", groupThousands(fmt.Sprint(gl.rows)), groupThousands(fmt.Sprint(gs.rows))),
		Measured: newFigure(groupThousands(fmt.Sprint(gl.rows)), "MiB", gl.growth),
		Baseline: newFigure(groupThousands(fmt.Sprint(gs.rows)), "MiB", gs.growth),
		Target:   "constant memory (growth for the large ≤ growth for the small + 32 MiB)"}
	row.Met = boolp(median(gl.growth) <= median(gs.growth)+32)
	s.add(row)
	s.note("(c) The leaves of the drawn campaigns (seeded with `--announced`: ended and announced at the seeding, so the leaves are public once drawn), %d runs each, small and large alternated: the whole JSON-lines body read and its lines counted against the certificate's candidateCount; serve's peak RSS reset before each (`echo 5 > /proc/PID/clear_refs`) and read after it (VmHWM − VmRSS before), as for the CSV in section 6. Baseline for the time: `COPY (SELECT entry_number, visited … FROM draw_candidates WHERE event_id = … ORDER BY entry_number COLLATE \"C\", participant_id) TO STDOUT` through pgx — the rows the leaves are hashed from, without hashing or HTTP.", e.o.reps)
	s.detail("leaves", map[string]any{
		"small": map[string]any{"rows": gs.rows, "bytes": gs.bytes, "seconds": gs.seconds, "peak_rss_growth_mib": gs.growth, "baseline_seconds": gs.base},
		"large": map[string]any{"rows": gl.rows, "bytes": gl.bytes, "seconds": gl.seconds, "peak_rss_growth_mib": gl.growth, "baseline_seconds": gl.base},
	})
	return nil
}

// certificateCandidates reads the public certificate's candidateCount and
// checks that the draw is public (announced: the seed is shown).
func (e *env) certificateCandidates(id uuid.UUID) (int, error) {
	status, body, err := e.call(e.ctx, ownerClient, http.MethodGet, fmt.Sprintf("/api/v1/events/%s/draw-certificate", id), nil, false)
	if err != nil || status != http.StatusOK {
		return 0, fmt.Errorf("certificate of %s: %d %v %.300s", id, status, err, body)
	}
	var cert struct {
		CandidateCount int    `json:"candidateCount"`
		Seed           string `json:"seed"`
	}
	if err := json.Unmarshal(body, &cert); err != nil {
		return 0, fmt.Errorf("certificate of %s: %w", id, err)
	}
	if cert.Seed == "" {
		return 0, fmt.Errorf("certificate of %s: not announced yet (no seed): were the campaigns seeded with --announced?", id)
	}
	return cert.CandidateCount, nil
}

// rawLeaves streams the rows a campaign's leaves are made from out of
// PostgreSQL, the leaves' own query without the cut-off.
func (e *env) rawLeaves(id uuid.UUID) (time.Duration, error) {
	conn, err := e.app.Acquire(e.ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	start := time.Now()
	_, err = conn.Conn().PgConn().CopyTo(context.WithoutCancel(e.ctx), io.Discard,
		fmt.Sprintf(`COPY (SELECT entry_number, visited_position IS NOT NULL FROM draw_candidates
			WHERE event_id = %s AND erased_position IS NULL ORDER BY entry_number COLLATE "C", participant_id) TO STDOUT`,
			quoteLiteral(id.String())))
	return time.Since(start), err
}
