package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// loadResult is one closed-loop HTTP run.
type loadResult struct {
	Throughput      float64      `json:"throughput_per_s"`
	Latency         latencyStats `json:"latency"`
	Created         int          `json:"created"`     // 201s in the measured window
	NonCreated      int          `json:"non_201"`     // anything else, over the whole run
	TotalCreated    int          `json:"created_all"` // 201s including the warm-up
	FirstFailure    string       `json:"first_failure,omitempty"`
	RegsPerCommit   float64      `json:"registrations_per_commit"`
	CPU             cpuShare     `json:"cpu"`
	MeasuredSeconds float64      `json:"measured_s"`
	// WALPerCreated is the server's WAL over the measured window per 201
	// (the whole server's: other databases' writes count too).
	WALPerCreated float64 `json:"wal_bytes_per_201"`
}

// closedLoop runs `clients` goroutines, each posting registrations back to
// back on a keep-alive connection, for warmup+dur; only requests completed
// inside the measured window count.
func (e *env) closedLoop(eventID uuid.UUID, clients int, warmup, dur time.Duration, onMeasure func()) (loadResult, error) {
	var before int64
	if err := e.app.QueryRow(e.ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&before); err != nil {
		return loadResult{}, err
	}
	client := newClient(clients)
	defer client.CloseIdleConnections()
	start := time.Now()
	from, to := start.Add(warmup), start.Add(warmup+dur)
	type worker struct {
		lat        []time.Duration
		created    int
		createdAll int
		bad        int
		first      string
	}
	workers := make([]worker, clients)
	snaps := make(chan cpuSnapshot, 2)
	wal := make(chan float64, 2)
	lsn := func() float64 {
		var b float64
		if err := e.admin.QueryRow(e.ctx, `SELECT pg_current_wal_lsn() - '0/0'::pg_lsn`).Scan(&b); err != nil {
			log.Printf("wal position: %v", err)
		}
		return b
	}
	go func() {
		time.Sleep(time.Until(from))
		wal <- lsn()
		snaps <- e.cpuNow()
		if onMeasure != nil {
			go onMeasure()
		}
		time.Sleep(time.Until(to))
		snaps <- e.cpuNow()
		wal <- lsn()
	}()
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.lat = make([]time.Duration, 0, 1<<14)
		wg.Go(func() {
			ctx := e.ctx
			for {
				t0 := time.Now()
				if !t0.Before(to) || ctx.Err() != nil {
					return
				}
				status, body, err := e.register(ctx, client, eventID)
				t1 := time.Now()
				if err != nil || status != http.StatusCreated {
					w.bad++
					if w.first == "" {
						w.first = fmt.Sprintf("status %d err %v body %.200s", status, err, body)
					}
					continue
				}
				w.createdAll++
				if !t1.Before(from) && !t1.After(to) {
					w.created++
					w.lat = append(w.lat, t1.Sub(t0))
				}
			}
		})
	}
	wg.Wait()
	var r loadResult
	r.CPU = cpuBetween(<-snaps, <-snaps)
	walFrom := <-wal
	walTo := <-wal
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Created += w.created
		r.TotalCreated += w.createdAll
		r.NonCreated += w.bad
		if r.FirstFailure == "" {
			r.FirstFailure = w.first
		}
	}
	r.MeasuredSeconds = dur.Seconds()
	r.Throughput = float64(r.Created) / dur.Seconds()
	r.Latency = latencies(all)
	r.WALPerCreated = (walTo - walFrom) / float64(max(r.Created, 1))
	var rows, txs int64
	if err := e.app.QueryRow(e.ctx, `SELECT count(*), count(DISTINCT tx_id) FROM events WHERE position > $1 AND type = 'ParticipantRegistered'`,
		before).Scan(&rows, &txs); err == nil && txs > 0 {
		r.RegsPerCommit = float64(rows) / float64(txs)
	}
	return r, nil
}

// pgbenchResult is one pgbench run.
type pgbenchResult struct {
	TPS     float64      `json:"tps"`
	Latency latencyStats `json:"latency"`
	CPU     cpuShare     `json:"cpu"`
	// done is when each transaction ended (from its log line), for the
	// per-window rates of section 7.
	done []time.Time
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func pgbenchPath() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) > 0 {
		return matches[len(matches)-1] // Glob sorts: the newest major version last (for 1x)
	}
	return "pgbench"
}

// pgbench runs the script with `clients` clients for dur and reads the
// per-transaction log for the latency percentiles.
func (e *env) pgbench(script string, clients int, dur time.Duration, dbURL string) (pgbenchResult, error) {
	dir, err := os.MkdirTemp(e.o.work, "pgbench-")
	if err != nil {
		return pgbenchResult{}, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(e.ctx, pgbenchPath(), "-n", "-f", script, "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(2, clients)),
		"-T", strconv.Itoa(int(dur.Seconds())), "-M", "prepared", "-l", "--log-prefix", filepath.Join(dir, "tx"), dbURL)
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: %w", err)
	}
	// CPU over the middle of the run, while pgbench's connections exist.
	snaps := make(chan cpuSnapshot, 2)
	go func() {
		time.Sleep(time.Until(start.Add(time.Second)))
		snaps <- e.cpuNow()
		time.Sleep(time.Until(start.Add(dur - 500*time.Millisecond)))
		snaps <- e.cpuNow()
	}()
	err = cmd.Wait()
	out := []byte(buf.String())
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	cpu := cpuBetween(<-snaps, <-snaps)
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: no tps in its output:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	var lat []float64
	var done []time.Time
	logs, _ := filepath.Glob(filepath.Join(dir, "tx*"))
	for _, l := range logs {
		f, err := os.Open(l)
		if err != nil {
			return pgbenchResult{}, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// client_id transaction_no time script_no time_epoch time_us
			fields := strings.Fields(sc.Text())
			if len(fields) >= 3 {
				if us, err := strconv.ParseFloat(fields[2], 64); err == nil {
					lat = append(lat, us/1000)
				}
			}
			if len(fields) >= 6 {
				sec, err1 := strconv.ParseInt(fields[4], 10, 64)
				us, err2 := strconv.ParseInt(fields[5], 10, 64)
				if err1 == nil && err2 == nil {
					done = append(done, time.Unix(sec, us*1000))
				}
			}
		}
		f.Close()
	}
	return pgbenchResult{TPS: tps, Latency: latenciesMS(lat), CPU: cpu, done: done}, nil
}

// pgbenchScript writes the baseline: one single-row INSERT of a JSON event
// of the same size as a stored ParticipantRegistered.
func (e *env) pgbenchScript(data string) (string, error) {
	if _, err := e.app.Exec(e.ctx, `CREATE TABLE IF NOT EXISTS raw_events (
		position bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL,
		type text NOT NULL, data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return "", err
	}
	path, err := filepath.Abs(filepath.Join(e.o.work, "raw_insert.sql"))
	if err != nil {
		return "", err
	}
	sql := "INSERT INTO raw_events (event_id, stream_id, type, data) VALUES (gen_random_uuid(), 'participant-' || gen_random_uuid(), 'ParticipantRegistered', " +
		pgbenchLiteral(data) + ");\n"
	return path, os.WriteFile(path, []byte(sql), 0o644)
}

// pgbenchLiteral quotes s as an E” string in which no ':' is followed by
// a name character, which pgbench would take for a :variable.
func pgbenchLiteral(s string) string {
	var b strings.Builder
	b.WriteString("E'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\'':
			b.WriteString(`''`)
		case c == ':':
			b.WriteString(`\x3a`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("'")
	return b.String()
}

func (e *env) checkpoint() {
	if _, err := e.admin.Exec(e.ctx, "CHECKPOINT"); err != nil {
		log.Printf("checkpoint: %v", err)
	}
}

func (e *env) section1() *Section {
	s := &Section{Number: 1, Title: titles[1], Status: "measured"}
	fail := func(err error) *Section { s.Status = "error: " + err.Error(); return s }
	eventID, err := e.openCampaign("bench: registrations")
	if err != nil {
		return fail(err)
	}
	// One registration first, to learn the stored event's size.
	if status, body, err := e.register(e.ctx, ownerClient, eventID); err != nil || status != http.StatusCreated {
		return fail(fmt.Errorf("probe registration: %d %v %s", status, err, body))
	}
	var data string
	var dataBytes, rowBytes int
	if err := e.app.QueryRow(e.ctx, `SELECT data::text, octet_length(data::text), pg_column_size(e.*) FROM events e
		WHERE type = 'ParticipantRegistered' AND partition_key = $1 LIMIT 1`, eventID.String()).Scan(&data, &dataBytes, &rowBytes); err != nil {
		return fail(fmt.Errorf("stored event size: %w", err))
	}
	script, err := e.pgbenchScript(data)
	if err != nil {
		return fail(err)
	}
	s.note("Each client of the load generator (Go, in the bench process, same machine) posts registrations back to back on a keep-alive connection with a phone never used before; %s warm-up, then %s measured; latency is per request.", e.o.warmup, e.o.duration)
	if e.o.idempotencyKeys {
		s.note("Every registration carries a fresh `Idempotency-Key` (`-idempotency-keys`), as the customer page sends.")
	}
	s.note("Baseline: `pgbench -n -M prepared -c N -j min(2,N) -T %d` with one single-row INSERT of the probe's stored JSON (%d bytes as text, %d-byte events row) into `raw_events(position bigserial pk, event_id uuid unique, stream_id, type, data jsonb, recorded_at)` in the service's database; latency percentiles from pgbench's per-transaction log (`-l`). HTTP and pgbench runs alternate, with a CHECKPOINT before each.",
		int(e.o.duration.Seconds()), dataBytes, rowBytes)
	s.detail("event_data_bytes", dataBytes)
	s.detail("campaign", eventID)
	expected := int64(1)

	targets := map[int]float64{64: 1.0, 16: 0.6}
	runs := map[int][]loadResult{}
	pgb := map[int][]pgbenchResult{}
	for _, n := range e.o.clients {
		for rep := range e.o.reps {
			httpRun := func() error {
				e.checkpoint()
				r, err := e.closedLoop(eventID, n, e.o.warmup, e.o.duration, nil)
				if err != nil {
					return err
				}
				expected += int64(r.TotalCreated)
				log.Printf("section 1: HTTP %d clients run %d: %.0f/s p50 %.1f ms p99 %.1f ms, non-201 %d, %.1f registrations/commit",
					n, rep+1, r.Throughput, r.Latency.P50, r.Latency.P99, r.NonCreated, r.RegsPerCommit)
				if r.FirstFailure != "" {
					log.Printf("section 1: first failure: %s", r.FirstFailure)
				}
				runs[n] = append(runs[n], r)
				return nil
			}
			pgbRun := func() error {
				e.checkpoint()
				r, err := e.pgbench(script, n, e.o.duration, e.appURL)
				if err != nil {
					return err
				}
				log.Printf("section 1: pgbench %d clients run %d: %.0f tps p50 %.1f ms p99 %.1f ms", n, rep+1, r.TPS, r.Latency.P50, r.Latency.P99)
				pgb[n] = append(pgb[n], r)
				return nil
			}
			first, second := httpRun, pgbRun
			if rep%2 == 1 {
				first, second = pgbRun, httpRun
			}
			if err := first(); err != nil {
				return fail(err)
			}
			if err := second(); err != nil {
				return fail(err)
			}
		}
		var tput, p50, p99, base, bp50, bp99, perCommit []float64
		bad := 0
		for _, r := range runs[n] {
			tput, p50, p99 = append(tput, r.Throughput), append(p50, r.Latency.P50), append(p99, r.Latency.P99)
			perCommit = append(perCommit, r.RegsPerCommit)
			bad += r.NonCreated
		}
		for _, r := range pgb[n] {
			base, bp50, bp99 = append(base, r.TPS), append(bp50, r.Latency.P50), append(bp99, r.Latency.P99)
		}
		row := Row{Label: fmt.Sprintf("%s: throughput", clientsLabel(n)),
			Measured: newFigure("HTTP 201s", "/s", tput), Baseline: newFigure("pgbench", "tps", base)}
		row.Ratio = ratio(row.Measured, row.Baseline)
		if t, ok := targets[n]; ok {
			row.Target = fmt.Sprintf("≥ %.1f×", t)
			row.Met = boolp(row.Ratio != nil && *row.Ratio >= t)
		}
		s.add(row)
		s.add(Row{Label: fmt.Sprintf("%s: latency p50", clientsLabel(n)), Measured: newFigure("", "ms", p50), Baseline: newFigure("", "ms", bp50)})
		s.add(Row{Label: fmt.Sprintf("%s: latency p99", clientsLabel(n)), Measured: newFigure("", "ms", p99), Baseline: newFigure("", "ms", bp99)})
		s.add(Row{Label: fmt.Sprintf("%s: non-201 answers", clientsLabel(n)), Measured: newFigure("", "", []float64{float64(bad)}), Target: "0", Met: boolp(bad == 0)})
		var hc, pc []cpuShare
		var walPer []float64
		for _, r := range runs[n] {
			hc = append(hc, r.CPU)
			walPer = append(walPer, r.WALPerCreated/1000)
		}
		s.add(Row{Label: fmt.Sprintf("%s: WAL per registration", clientsLabel(n)), Measured: newFigure("", "kB", walPer), Target: "≤ 2.0 kB",
			Met: boolp(median(walPer) <= 2.0)})
		for _, r := range pgb[n] {
			pc = append(pc, r.CPU)
		}
		h, p := medianShare(hc), medianShare(pc)
		perOp := func(cores, rate float64) float64 { return cores * 1e6 / max(rate, 1) }
		s.note("%s: %s registrations per commit (group commit: events per distinct transaction id, per run). CPU (median of runs) during HTTP: %s — per registration: serve %.0f µs, PostgreSQL %.0f µs, bench %.0f µs; during pgbench: %s — per INSERT: PostgreSQL %.0f µs, pgbench %.0f µs.",
			clientsLabel(n), joinNums(perCommit), h, perOp(h.Serve, median(tput)), perOp(h.Postgres, median(tput)), perOp(h.Bench, median(tput)),
			p, perOp(p.Postgres, median(base)), perOp(p.Pgbench, median(base)))
		e.maxThroughput = max(e.maxThroughput, median(tput))
	}
	s.detail("http_runs", runs)
	s.detail("pgbench_runs", pgb)
	s.detail("registered_total", expected)
	e.s1Campaign, e.s1Registered = eventID, expected

	// One more run at the highest concurrency, not counted, with a CPU profile of serve.
	top := e.o.clients[len(e.o.clients)-1]
	if err := e.profileRun(eventID, top); err != nil {
		s.note("CPU profile: %v", err)
	}
	return s
}

func joinNums(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = num(x)
	}
	return strings.Join(parts, " / ")
}

// profileRun takes a CPU profile of serve during one extra (uncounted) run.
func (e *env) profileRun(eventID uuid.UUID, clients int) error {
	secs := max(1, int(e.o.duration.Seconds())-2)
	profPath := filepath.Join(e.o.out, fmt.Sprintf("serve-cpu-%d.prof", clients))
	textPath := filepath.Join(e.o.out, fmt.Sprintf("serve-cpu-%d.txt", clients))
	errc := make(chan error, 1)
	r, err := e.closedLoop(eventID, clients, e.o.warmup, e.o.duration, func() {
		errc <- func() error {
			resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", e.svc.pprof, secs))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("pprof: %s", resp.Status)
			}
			f, err := os.Create(profPath)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(f, resp.Body)
			return err
		}()
	})
	if err != nil {
		return err
	}
	e.s1Registered += int64(r.TotalCreated)
	if err := <-errc; err != nil {
		return err
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=40", e.o.bin, profPath).Output()
	if err != nil {
		return fmt.Errorf("go tool pprof: %w", err)
	}
	if err := os.WriteFile(textPath, out, 0o644); err != nil {
		return err
	}
	cum, _ := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=40", e.o.bin, profPath).Output()
	_ = os.WriteFile(textPath, append(append(out, "\n--- by cumulative ---\n"...), cum...), 0o644)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var top []string
	for i, l := range lines {
		if strings.Contains(l, "flat%") {
			top = append(top, lines[max(0, i-2):min(len(lines), i+16)]...)
			break
		}
	}
	e.report.Profile = &Profile{During: fmt.Sprintf("an extra, uncounted %s run of registrations at %d clients, %d s sampled; %.0f/s during it", e.o.duration, clients, secs, r.Throughput), File: profPath, Text: textPath, Top: top}
	log.Printf("section 1: profile run %.0f/s; profile in %s", r.Throughput, profPath)
	return nil
}

func clientsLabel(n int) string {
	if n == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", n)
}
