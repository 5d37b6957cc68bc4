package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Section 7 (DESIGN "Performance targets", sustained): a minute of
// registrations into one hot campaign with the whole service running —
// relay and projectors included — against pgbench's single-row INSERT run
// alone on the same database, while a probe in another campaign measures
// 201 → visible; on 12 partitions and on 1.

// s7Database is the database of each sustained run (recreated per run).
const s7Database = "bench_sustained"

type sustainedOptions struct {
	duration      time.Duration
	clients       int
	reps          int
	window        time.Duration
	probeInterval time.Duration
	profile       bool
	partitionsArg string
	partitions    []int
}

func sustainedFlags(o *sustainedOptions) {
	flag.DurationVar(&o.duration, "sustained-duration", 60*time.Second, "length of each sustained run and of its pgbench baseline (section 7)")
	flag.IntVar(&o.clients, "sustained-clients", 64, "closed-loop HTTP clients (and pgbench clients) of section 7")
	flag.IntVar(&o.reps, "sustained-reps", 1, "sustained runs per partition count (section 7; each is two minutes and more)")
	flag.DurationVar(&o.window, "sustained-window", 5*time.Second, "the windows section 7 reports its figures by")
	flag.DurationVar(&o.probeInterval, "sustained-probe-interval", 500*time.Millisecond, "one probe registration in another campaign this often (section 7)")
	flag.BoolVar(&o.profile, "sustained-profile", false, "take a CPU profile of serve over the middle third of each sustained run (into -work)")
	flag.StringVar(&o.partitionsArg, "sustained-partitions", "12,1", "the topic's partition counts of section 7 (serve restarted on a fresh database and topic for each)")
}

func (o *sustainedOptions) parse() error {
	for _, p := range strings.Split(o.partitionsArg, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("-sustained-partitions: %q", p)
		}
		o.partitions = append(o.partitions, n)
	}
	if o.window <= 0 || o.duration < o.window || o.clients < 1 || o.reps < 1 || o.probeInterval <= 0 {
		return fmt.Errorf("section 7 flags: want duration ≥ window > 0, clients ≥ 1, reps ≥ 1, probe interval > 0")
	}
	return nil
}

func (e *env) section7() *Section {
	s := &Section{Number: 7, Title: titles[7], Status: "measured"}
	o := e.o.sustained
	// Serve moves to a database and topic of its own per run; the shared
	// ones come back afterwards (section 7 runs last).
	if e.svc != nil {
		e.svc.stop()
		e.svc = nil
	}
	appURL, app := e.appURL, e.app
	defer func() {
		if e.svc != nil {
			e.svc.stop()
			e.svc = nil
		}
		if e.app != app {
			e.app.Close()
		}
		e.appURL, e.app, e.serveEnv = appURL, app, nil
	}()

	s.note("Each run: serve (all roles: api, relay, projectors) restarted on a fresh database and a fresh topic of KAFKA_PARTITIONS partitions (kfake, in the bench process). %d closed-loop keep-alive clients post registrations with phones never used before into one hot campaign for %s, no warm-up (a first registration in each campaign before). Meanwhile a probe registers in another campaign every %s and polls that campaign's `GET …/participants?page=1&size=100` every 10 ms: its lag is 201 → the first poll listing it. At each %s window's end the bench reads the hot list's totalCount (how far the read side is behind the 201s so far), serve's `participation_relay_lag_events` and `participation_projection_lag_events{projection=\"participants\"}`, and the database's active backends by wait event (pg_stat_activity). After the load: the time until the hot list's totalCount covers every 201 (drain; at most %s).",
		o.clients, o.duration, o.probeInterval, o.window, s7DrainLimit)
	s.note("Baseline: section 1's pgbench (`-M prepared -c %d -T %d`, the single-row INSERT of a stored registration's JSON into `raw_events`) alone on the same database, the service idle (the read side drained); its transactions are spread over the same windows from pgbench's per-transaction log. Load and pgbench alternate across repetitions, a CHECKPOINT before each. %d run(s) per partition count (`-sustained-reps`; each run costs over two minutes, and `make bench` is long already).",
		o.clients, int(o.duration.Seconds()), o.reps)

	var details []s7Run
	for _, parts := range o.partitions {
		var runs []s7Run
		for rep := range o.reps {
			r, err := e.sustainedRun(parts, rep)
			if err != nil {
				s.Status = fmt.Sprintf("partly measured: %d partitions run %d: %v", parts, rep+1, err)
				log.Printf("section 7: %v", err)
				break
			}
			runs = append(runs, r)
			details = append(details, r)
		}
		if len(runs) > 0 {
			e.sustainedRows(s, parts, runs)
		}
	}
	s.detail("runs", details)
	return s
}

// sustainedRun is one run on a partition count: serve restarted, then the
// load and the baseline in the order of rep.
func (e *env) sustainedRun(parts, rep int) (s7Run, error) {
	r := s7Run{Partitions: parts, Topic: fmt.Sprintf("%s-s7-p%d-%s", e.o.topic, parts, randomHex(4))}
	if e.svc != nil {
		e.svc.stop()
		e.svc = nil
	}
	if e.app != nil && e.appURL != "" && strings.Contains(e.appURL, s7Database) {
		e.app.Close()
	}
	url, pool, err := e.freshDatabase(s7Database, 20)
	if err != nil {
		return r, err
	}
	e.appURL, e.app = url, pool
	e.serveEnv = []string{"KAFKA_TOPIC=" + r.Topic, "KAFKA_PARTITIONS=" + strconv.Itoa(parts)}
	if err := e.startService(); err != nil {
		return r, err
	}
	hot, err := e.openCampaign(fmt.Sprintf("bench: sustained, %d partitions", parts))
	if err != nil {
		return r, err
	}
	probe, err := e.openCampaign(fmt.Sprintf("bench: sustained probe, %d partitions", parts))
	if err != nil {
		return r, err
	}
	for _, id := range []uuid.UUID{hot, probe} {
		if status, body, err := e.register(e.ctx, ownerClient, id); err != nil || status != http.StatusCreated {
			return r, fmt.Errorf("first registration: %d %v %.200s", status, err, body)
		}
		if err := e.waitProjected(id, 1, time.Minute); err != nil {
			return r, fmt.Errorf("first registration: %w", err)
		}
	}
	if got, err := e.topicPartitions(r.Topic); err != nil || got != parts {
		return r, fmt.Errorf("topic %s has %d partitions, want %d (%v)", r.Topic, got, parts, err)
	}
	var data string
	if err := e.app.QueryRow(e.ctx, `SELECT data::text FROM events WHERE type = 'ParticipantRegistered' LIMIT 1`).Scan(&data); err != nil {
		return r, fmt.Errorf("stored event: %w", err)
	}
	script, err := e.pgbenchScript(data)
	if err != nil {
		return r, err
	}

	load := func() error {
		e.checkpoint()
		if err := e.sustainedLoad(&r, hot, probe, 1); err != nil {
			return err
		}
		log.Printf("section 7: %d partitions run %d: %.0f/s, %d non-201, probe p50 %.0f ms p99 %.0f ms, drain %.2f s (drained %v)",
			parts, rep+1, r.Throughput, r.NonCreated, r.Probe.P50, r.Probe.P99, r.DrainSeconds, r.Drained)
		return nil
	}
	baseline := func() error {
		e.checkpoint()
		p, err := e.pgbench(script, e.o.sustained.clients, e.o.sustained.duration, e.appURL)
		if err != nil {
			return err
		}
		r.Pgbench = p
		log.Printf("section 7: %d partitions run %d: pgbench %.0f tps", parts, rep+1, p.TPS)
		return nil
	}
	first, second := load, baseline
	if rep%2 == 1 {
		first, second = baseline, load
	}
	if err := first(); err != nil {
		return r, err
	}
	if err := second(); err != nil {
		return r, err
	}
	e.pgbenchWindows(&r)
	return r, nil
}

// topicPartitions asks the broker how many partitions topic has.
func (e *env) topicPartitions(topic string) (int, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(e.brokers, ",")...))
	if err != nil {
		return 0, err
	}
	defer client.Close()
	req := kmsg.NewMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = &topic
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(e.ctx, client)
	if err != nil {
		return 0, err
	}
	for _, t := range resp.Topics {
		if t.Topic != nil && *t.Topic == topic {
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %s not found", topic)
}

func (e *env) sustainedRows(s *Section, parts int, runs []s7Run) {
	label := fmt.Sprintf("%d partition", parts)
	if parts != 1 {
		label += "s"
	}
	var tput, base, p50, p99, pb50, pb99, pP50, pP99, drain, worst, fall []float64
	bad, missing := 0, 0
	drained := true
	for _, r := range runs {
		tput, base = append(tput, r.Throughput), append(base, r.Pgbench.TPS)
		p50, p99 = append(p50, r.Latency.P50), append(p99, r.Latency.P99)
		pb50, pb99 = append(pb50, r.Pgbench.Latency.P50), append(pb99, r.Pgbench.Latency.P99)
		pP50, pP99 = append(pP50, r.Probe.P50), append(pP99, r.Probe.P99)
		drain = append(drain, r.DrainSeconds)
		bad += r.NonCreated
		missing += r.ProbeMissing
		drained = drained && r.Drained
		var most int64
		for _, w := range r.Windows {
			most = max(most, w.Behind)
		}
		worst = append(worst, float64(most))
		fall = append(fall, lastOverFirst(r.Windows))
	}
	row := Row{Label: label + ": registrations/s over the run", Measured: newFigure("HTTP 201s", "/s", tput), Baseline: newFigure("pgbench alone", "tps", base), Target: "≥ 0.5×"}
	row.Ratio = ratio(row.Measured, row.Baseline)
	row.Met = boolp(row.Ratio != nil && *row.Ratio >= 0.5)
	s.add(row)
	s.add(Row{Label: label + ": registrations/s of the last 3 windows ÷ the first 3", Measured: newFigure("", "×", fall), Target: "no fall (≈ 1×)"})
	s.add(Row{Label: label + ": latency p50", Measured: newFigure("", "ms", p50), Baseline: newFigure("pgbench", "ms", pb50)})
	s.add(Row{Label: label + ": latency p99", Measured: newFigure("", "ms", p99), Baseline: newFigure("pgbench", "ms", pb99)})
	s.add(Row{Label: label + ": non-201 answers", Measured: newFigure("", "", []float64{float64(bad)}), Target: "0", Met: boolp(bad == 0)})
	s.add(Row{Label: label + ": probe 201 → visible, p50", Measured: newFigure("", "ms", pP50)})
	s.add(Row{Label: label + ": probe 201 → visible, p99", Measured: newFigure("", "ms", pP99), Target: "< 1,000 ms", Met: boolp(median(pP99) < 1000 && missing == 0)})
	s.add(Row{Label: label + ": hot list drained after the load", Measured: newFigure("", "s", drain), Target: "≤ 2 s", Met: boolp(drained && median(drain) <= 2)})
	s.add(Row{Label: label + ": most 201s not yet listed at a window's end", Measured: newFigure("", "", worst)})
	if missing > 0 {
		s.note("%s: %d probe registrations never showed within 30 s after the load; counted as 30 s (the p99 is a lower bound).", label, missing)
	}
	if !drained {
		s.note("%s: the hot list did not show every 201 within %s of the load's end.", label, s7DrainLimit)
	}
	for i, r := range runs {
		s.note("%s, run %d, by %s window — %s CPU during the load: %s.", label, i+1, e.o.sustained.window, windowSeries(r.Windows), r.CPU)
		if r.FirstFailure != "" {
			s.note("%s, run %d: first failure: %s", label, i+1, r.FirstFailure)
		}
		if r.Profile != "" {
			s.note("%s, run %d: CPU profile of serve over the middle third in `%s`.", label, i+1, r.Profile)
		}
	}
}

// lastOverFirst is the load's rate over its last three windows ÷ its first three.
func lastOverFirst(ws []s7Window) float64 {
	k := min(3, len(ws)/2)
	if k == 0 {
		return 0
	}
	var first, last float64
	for i := range k {
		first += ws[i].Load
		last += ws[len(ws)-1-i].Load
	}
	if first == 0 {
		return 0
	}
	return last / first
}

func windowSeries(ws []s7Window) string {
	col := func(f func(w s7Window) string) string {
		parts := make([]string, len(ws))
		for i, w := range ws {
			parts[i] = f(w)
		}
		return strings.Join(parts, " / ")
	}
	return fmt.Sprintf("registrations/s: %s; pgbench tps: %s; ratio: %s; probe lag p99 (ms): %s; 201s not yet listed at the window's end: %s; relay lag (events): %s; participants projection lag (events): %s; machine load average (1 min): %s; active backends at the window's end: %s.",
		col(func(w s7Window) string { return num(w.Load) }),
		col(func(w s7Window) string { return num(w.Pgbench) }),
		col(func(w s7Window) string {
			if w.Pgbench == 0 {
				return "—"
			}
			return fmt.Sprintf("%.2f", w.Load/w.Pgbench)
		}),
		col(func(w s7Window) string { return num(w.ProbeP99) }),
		col(func(w s7Window) string { return num(float64(w.Behind)) }),
		col(func(w s7Window) string { return num(w.RelayLag) }),
		col(func(w s7Window) string { return num(w.ProjLag) }),
		col(func(w s7Window) string { return fmt.Sprintf("%.1f", w.Load1) }),
		col(func(w s7Window) string { return "[" + w.PGActivity + "]" }))
}
