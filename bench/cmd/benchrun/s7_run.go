package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// s7Window is one window of a sustained run.
type s7Window struct {
	End        float64 `json:"end_s"`
	Load       float64 `json:"load_per_s"`  // 201s per second of the hot load in the window
	Pgbench    float64 `json:"pgbench_tps"` // the baseline's transactions per second in the same window of its own run
	Probes     int     `json:"probes"`      // probe registrations answered 201 in the window
	ProbeP99   float64 `json:"probe_lag_p99_ms"`
	Behind     int64   `json:"behind"`          // 201s so far minus the hot list's totalCount, at the window's end
	RelayLag   float64 `json:"relay_lag"`       // participation_relay_lag_events at the window's end
	ProjLag    float64 `json:"projection_lag"`  // participation_projection_lag_events{projection="participants"}
	PGActivity string  `json:"pg_active_waits"` // active backends of the database by wait event
	Load1      float64 `json:"load1"`           // the machine's 1-minute load average (it is shared)
}

// s7Run is one sustained run on one partition count.
type s7Run struct {
	Partitions   int           `json:"partitions"`
	Topic        string        `json:"topic"`
	Throughput   float64       `json:"throughput_per_s"`
	Created      int           `json:"created"`
	NonCreated   int           `json:"non_201"`
	FirstFailure string        `json:"first_failure,omitempty"`
	Latency      latencyStats  `json:"latency"`
	Probe        latencyStats  `json:"probe_lag"`
	ProbeMissing int           `json:"probes_never_visible"`
	DrainSeconds float64       `json:"drain_s"`
	Drained      bool          `json:"drained"`
	Pgbench      pgbenchResult `json:"pgbench"`
	Windows      []s7Window    `json:"windows"`
	CPU          cpuShare      `json:"cpu"`
	Profile      string        `json:"profile,omitempty"`
}

// s7DrainLimit bounds the wait for the hot campaign's list after the load.
const s7DrainLimit = 3 * time.Minute

// sustainedLoad runs the hot load with the probe beside it and fills r
// (everything but the baseline).
func (e *env) sustainedLoad(r *s7Run, hot, probe uuid.UUID, preloaded int64) error {
	o := e.o.sustained
	nWin := int((o.duration + o.window - 1) / o.window)
	winOf := func(t, start time.Time) int { return min(max(int(t.Sub(start)/o.window), 0), nWin-1) }
	perWin := make([]atomic.Int64, nWin)
	var total atomic.Int64
	client := newClient(o.clients)
	defer client.CloseIdleConnections()

	type worker struct {
		lat   []time.Duration
		bad   int
		first string
	}
	workers := make([]worker, o.clients)
	start := time.Now()
	end := start.Add(o.duration)

	// The probe: one registration in the other campaign every interval, and
	// a poller of that campaign's first page noting when each one shows.
	type probeReg struct {
		at time.Time
		id uuid.UUID
	}
	var (
		pmu       sync.Mutex
		probes    []probeReg
		probeBad  int
		firstSeen = map[uuid.UUID]time.Time{}
		probeWG   sync.WaitGroup
	)
	probeClient, pollClient := newClient(4), newClient(2)
	defer probeClient.CloseIdleConnections()
	defer pollClient.CloseIdleConnections()
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		tick := time.NewTicker(o.probeInterval)
		defer tick.Stop()
		for now := range tick.C {
			if !now.Before(end) || e.ctx.Err() != nil {
				return
			}
			probeWG.Go(func() {
				status, body, err := e.register(e.ctx, probeClient, probe)
				t := time.Now()
				var out struct {
					ParticipantID uuid.UUID `json:"participantId"`
				}
				pmu.Lock()
				defer pmu.Unlock()
				if err != nil || status != http.StatusCreated || json.Unmarshal(body, &out) != nil {
					probeBad++
					return
				}
				probes = append(probes, probeReg{at: t, id: out.ParticipantID})
			})
		}
	}()
	stopPoll := make(chan struct{})
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		path := fmt.Sprintf("/api/v1/events/%s/participants?page=1&size=100", probe)
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(10 * time.Millisecond):
			}
			status, body, err := e.call(e.ctx, pollClient, http.MethodGet, path, nil, true)
			t := time.Now()
			var page struct {
				Participants []struct {
					ParticipantID uuid.UUID `json:"participantId"`
				} `json:"participants"`
			}
			if err != nil || status != http.StatusOK || json.Unmarshal(body, &page) != nil {
				continue
			}
			pmu.Lock()
			for _, p := range page.Participants {
				if _, ok := firstSeen[p.ParticipantID]; !ok {
					firstSeen[p.ParticipantID] = t
				}
			}
			pmu.Unlock()
		}
	}()

	// At each window's end: how far the read side is behind, and why.
	windows := make([]s7Window, nWin)
	monDone := make(chan struct{})
	go func() {
		defer close(monDone)
		for w := range nWin {
			at := start.Add(time.Duration(w+1) * o.window)
			select {
			case <-e.ctx.Done():
				return
			case <-time.After(time.Until(at)):
			}
			sent := total.Load()
			visible, _, _ := e.participantsTotal(hot)
			m := e.serveMetrics()
			windows[w].End = (time.Duration(w+1) * o.window).Seconds()
			windows[w].Behind = sent + preloaded - visible
			windows[w].RelayLag = m["participation_relay_lag_events"]
			windows[w].ProjLag = m[`participation_projection_lag_events{projection="participants"}`]
			windows[w].PGActivity = e.pgActivity()
			windows[w].Load1 = loadAverage()
			log.Printf("section 7: %d partitions, %2.0f s: %d/s, %d behind (relay lag %.0f, participants lag %.0f), active: %s",
				r.Partitions, windows[w].End, perWin[w].Load()/int64(o.window.Seconds()), windows[w].Behind,
				windows[w].RelayLag, windows[w].ProjLag, windows[w].PGActivity)
		}
	}()

	profErr := make(chan error, 1)
	if o.profile {
		go func() { profErr <- e.sustainedProfile(r, start) }()
	} else {
		profErr <- nil
	}

	cpuStart := e.cpuNow()
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.lat = make([]time.Duration, 0, 1<<14)
		wg.Go(func() {
			for {
				t0 := time.Now()
				if !t0.Before(end) || e.ctx.Err() != nil {
					return
				}
				status, body, err := e.register(e.ctx, client, hot)
				t1 := time.Now()
				if err != nil || status != http.StatusCreated {
					w.bad++
					if w.first == "" {
						w.first = fmt.Sprintf("status %d err %v body %.200s", status, err, body)
					}
					continue
				}
				total.Add(1)
				perWin[winOf(t1, start)].Add(1)
				w.lat = append(w.lat, t1.Sub(t0))
			}
		})
	}
	wg.Wait()
	loadEnd := time.Now()
	r.CPU = cpuBetween(cpuStart, e.cpuNow())
	<-probeDone
	probeWG.Wait()

	// Drain: until the hot list counts every 201.
	want := total.Load() + preloaded
	for time.Since(loadEnd) < s7DrainLimit && e.ctx.Err() == nil {
		got, _, err := e.participantsTotal(hot)
		if err == nil && got >= want {
			r.Drained = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.DrainSeconds = time.Since(loadEnd).Seconds()
	// The probe's last ones: they were registered before the load ended.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		pmu.Lock()
		all := true
		for _, p := range probes {
			if _, ok := firstSeen[p.id]; !ok {
				all = false
				break
			}
		}
		pmu.Unlock()
		if all {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stopPoll)
	<-pollDone
	<-monDone
	if err := <-profErr; err != nil {
		log.Printf("section 7: profile: %v", err)
	}

	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		r.NonCreated += w.bad
		if r.FirstFailure == "" {
			r.FirstFailure = w.first
		}
	}
	r.NonCreated += probeBad
	r.Created = int(total.Load())
	r.Throughput = float64(r.Created) / o.duration.Seconds()
	r.Latency = latencies(all)
	perWinLag := make([][]time.Duration, nWin)
	var lags []time.Duration
	for _, p := range probes {
		seen, ok := firstSeen[p.id]
		if !ok {
			r.ProbeMissing++
			seen = p.at.Add(30 * time.Second) // counted as the wait: the p99 is then a lower bound
		}
		lag := max(0, seen.Sub(p.at))
		lags = append(lags, lag)
		w := winOf(p.at, start)
		perWinLag[w] = append(perWinLag[w], lag)
	}
	r.Probe = latencies(lags)
	for w := range windows {
		windows[w].Load = float64(perWin[w].Load()) / o.window.Seconds()
		windows[w].Probes = len(perWinLag[w])
		windows[w].ProbeP99 = latencies(perWinLag[w]).P99
	}
	r.Windows = windows
	return nil
}

// pgbenchWindows spreads the baseline's transactions over the same windows.
func (e *env) pgbenchWindows(r *s7Run) {
	done := r.Pgbench.done
	if len(done) == 0 {
		return
	}
	o := e.o.sustained
	last := done[0]
	for _, t := range done {
		if t.After(last) {
			last = t
		}
	}
	start := last.Add(-o.duration) // pgbench -T ends its clients at start + T
	counts := make([]int, len(r.Windows))
	for _, t := range done {
		w := min(max(int(t.Sub(start)/o.window), 0), len(counts)-1)
		counts[w]++
	}
	for w := range r.Windows {
		r.Windows[w].Pgbench = float64(counts[w]) / o.window.Seconds()
	}
}

// loadAverage is the machine's 1-minute load average (0 when unknown).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// serveMetrics reads serve's gauges (name with labels → value).
func (e *env) serveMetrics() map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get(e.svc.pprof + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "participation_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// pgActivity is the database's active backends grouped by what they wait on.
func (e *env) pgActivity() string {
	rows, err := e.admin.Query(e.ctx, `SELECT coalesce(wait_event_type || '/' || wait_event, 'CPU'), count(*)
		FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()
		GROUP BY 1 ORDER BY 2 DESC`, s7Database)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var w string
		var n int
		if rows.Scan(&w, &n) == nil {
			parts = append(parts, fmt.Sprintf("%s %d", w, n))
		}
	}
	return strings.Join(parts, ", ")
}

// sustainedProfile takes a CPU profile of serve over the middle of the load.
func (e *env) sustainedProfile(r *s7Run, start time.Time) error {
	o := e.o.sustained
	secs := max(1, int(o.duration.Seconds()/3))
	time.Sleep(time.Until(start.Add(o.duration / 3)))
	resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", e.svc.pprof, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	path := filepath.Join(e.o.work, fmt.Sprintf("s7-serve-cpu-p%d.prof", r.Partitions))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return err
	}
	r.Profile = path
	return nil
}
