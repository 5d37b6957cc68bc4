package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// lagRate is the steady rate of the lag run: the asked one, or 80 % of the
// write side's closed-loop capacity when that is lower.
func (e *env) lagRate(capacity float64, source string) (int, string) {
	rate := e.o.lagRate
	if capacity > 0 && 0.8*capacity < float64(rate) {
		r := max(int(0.8*capacity)/100*100, 100)
		return r, fmt.Sprintf("%d/s: the asked %d/s is above 80 %% of %s, %.0f/s", r, e.o.lagRate, source, capacity)
	}
	return rate, fmt.Sprintf("%d/s", rate)
}

func (e *env) section3() *Section {
	s := &Section{Number: 3, Title: titles[3], Status: "measured"}
	fail := func(err error) *Section { s.Status = "error: " + err.Error(); return s }
	notWired := func() *Section {
		s.Status = "not measured: read side not wired yet (GET /api/v1/events/{id}/participants answers 503)"
		return s
	}
	probe, err := e.openCampaign("bench: lag probe")
	if err != nil {
		return fail(err)
	}
	if _, status, err := e.participantsTotal(probe); status == http.StatusServiceUnavailable {
		return notWired()
	} else if err != nil || status != http.StatusOK {
		return fail(fmt.Errorf("GET participants: %d %v", status, err))
	}
	s.note("Open loop: each registration is sent at its scheduled time whatever the previous ones do, %s per run, a fresh campaign per run. A poller asks `GET …/participants?page=1&size=100` (newest first) back to back, every 10 ms at most; a participant's lag is the end of the first poll whose page shows it minus its 201. A participant that never showed on page 1 (more than 100 newer between two polls) is counted visible at the first poll whose totalCount covers its rank in 201 order. After the load the poller goes on until everything is visible (at most %s; anything later counts as that long, so the p99 is then a lower bound).", e.o.lagDuration, lagTail)
	s.note("The relay's part: a Kafka consumer in the bench (franz-go, from the topic's end, made sure to read the campaign's partition by a probe registration) notes when each participant first appears on the topic. Baseline: the poll request's own latency (the resolution of the measurement). The relay, Kafka (kfake, in the bench process) and the four projectors are all on the path.")

	// The write side's capacity bounds the rate: section 1's best throughput
	// when it ran, else a short closed-loop probe. This section runs before
	// section 1 so that the read side starts idle.
	capacity, source := e.maxThroughput, "section 1's best closed-loop throughput"
	if capacity == 0 {
		clients := e.o.clients[len(e.o.clients)-1]
		r, err := e.closedLoop(probe, clients, time.Second, 3*time.Second, nil)
		if err != nil {
			return fail(err)
		}
		capacity, source = r.Throughput, fmt.Sprintf("a 3 s closed-loop probe at %d clients", clients)
		log.Printf("section 3: write capacity probe: %.0f/s", capacity)
		if err := e.waitProjected(probe, int64(r.TotalCreated), 2*time.Minute); errors.Is(err, errReadSideMissing) {
			return notWired()
		} else if err != nil {
			s.note("after the capacity probe: %v", err)
		}
	}
	if e.s1Campaign != uuid.Nil {
		log.Printf("section 3: waiting for the read side to show section 1's %d registrations", e.s1Registered)
		if err := e.waitProjected(e.s1Campaign, e.s1Registered, min(e.o.catchupTimeout, 4*time.Minute)); errors.Is(err, errReadSideMissing) {
			return notWired()
		} else if err != nil {
			s.note("before the runs (section 1's backlog): %v", err)
		}
	}
	rate, rateText := e.lagRate(capacity, source)
	var details []map[string]any
	series := func(r int, why string, target bool) ([]lagResult, error) {
		var lagP50, lagP99, pollP50, pollP99, achieved, kP50, kP99 []float64
		var cpus []cpuShare
		var results []lagResult
		capped := 0
		for rep := range e.o.reps {
			eventID, err := e.openCampaign(fmt.Sprintf("bench: lag %d/s %d", r, rep+1))
			if err != nil {
				return nil, err
			}
			res, err := e.lagRun(eventID, r, e.o.lagDuration)
			if err != nil {
				return nil, err
			}
			log.Printf("section 3: %d/s run %d (achieved %.0f/s, read side %.0f/s): lag p50 %.0f ms p99 %.0f ms (Kafka p50 %.0f p99 %.0f), %d of %d seen on page 1, %d not visible within %s, %d non-201",
				r, rep+1, res.Achieved, res.Drain, res.Lag.P50, res.Lag.P99, res.Kafka.P50, res.Kafka.P99, res.SeenDirect, res.Created, res.NeverVisible, lagTail, res.NonCreated)
			results = append(results, res)
			lagP50, lagP99 = append(lagP50, res.Lag.P50), append(lagP99, res.Lag.P99)
			pollP50, pollP99 = append(pollP50, res.Poll.P50), append(pollP99, res.Poll.P99)
			achieved = append(achieved, res.Achieved)
			kP50, kP99 = append(kP50, res.Kafka.P50), append(kP99, res.Kafka.P99)
			capped += res.NeverVisible
			cpus = append(cpus, res.CPU)
			details = append(details, map[string]any{"campaign": eventID, "result": res})
			if res.NonCreated > 0 {
				s.note("%d/s run %d: %d non-201 answers.", r, rep+1, res.NonCreated)
			}
		}
		s.note("%s. CPU during the load (median of runs): %s.", why, medianShare(cpus))
		if capped > 0 {
			s.note("%d/s: %d registrations were still not visible %s after the end of their run; counted as %s late: the p99 is a lower bound.", r, capped, lagTail, lagTail)
		}
		label := fmt.Sprintf("at %d/s", r)
		s.add(Row{Label: label + ": achieved rate of 201s", Measured: newFigure("", "/s", achieved), Target: fmt.Sprintf("%d/s steady", r),
			Met: boolp(median(achieved) >= 0.97*float64(r))})
		s.add(Row{Label: label + ": lag p50", Measured: newFigure("", "ms", lagP50), Baseline: newFigure("poll p50", "ms", pollP50)})
		row := Row{Label: label + ": lag p99", Measured: newFigure("", "ms", lagP99), Baseline: newFigure("poll p99", "ms", pollP99)}
		switch {
		case target && r >= 2000:
			row.Target, row.Met = "< 1,000 ms at 2,000/s", boolp(median(lagP99) < 1000)
		case target:
			row.Target, row.Met = "< 1,000 ms at 2,000/s (2,000/s not reachable here)", boolp(false)
		}
		s.add(row)
		s.add(Row{Label: label + ": of which 201 → on Kafka (relay), p50", Measured: newFigure("", "ms", kP50)})
		s.add(Row{Label: label + ": of which 201 → on Kafka (relay), p99", Measured: newFigure("", "ms", kP99)})
		return results, nil
	}
	first, err := series(rate, "Rate: "+rateText, true)
	if err != nil {
		return fail(err)
	}
	// When the read side fell behind, show the lag at a rate it sustains.
	var drains []float64
	for _, r := range first {
		drains = append(drains, r.Drain)
	}
	drain := median(drains)
	s.detail("read_side_rate_at_first_rate", drains)
	if drain < 0.95*float64(rate) {
		second := max(int(0.8*drain)/50*50, 50)
		if _, err := series(second, fmt.Sprintf("At %d/s the read side fell behind: it made registrations visible at only %.0f/s (median of runs: count ÷ time from the first request to the last one visible). Second rate: %d/s, 80 %% of that", rate, drain, second), false); err != nil {
			return fail(err)
		}
	}
	s.detail("runs", details)
	return s
}

// lagTail bounds the wait for the last registrations of a lag run to show.
const lagTail = 90 * time.Second

type lagResult struct {
	Rate         int          `json:"rate"`
	Achieved     float64      `json:"achieved_per_s"`
	Created      int          `json:"created"`
	NonCreated   int          `json:"non_201"`
	SeenDirect   int          `json:"seen_on_page_1"`
	NeverVisible int          `json:"never_visible"`
	Lag          latencyStats `json:"lag"`
	Poll         latencyStats `json:"poll"`
	Kafka        latencyStats `json:"to_kafka"` // 201 → read from the topic by the bench
	NotOnKafka   int          `json:"not_on_kafka"`
	MaxInFlight  int          `json:"max_in_flight"`
	CPU          cpuShare     `json:"cpu"`             // during the load
	Drain        float64      `json:"read_side_per_s"` // registrations made visible per second, first request to last visible
}

type pollSnapshot struct {
	at    time.Time
	total int64
}

func (e *env) lagRun(eventID uuid.UUID, rate int, dur time.Duration) (lagResult, error) {
	client := newClient(512)
	defer client.CloseIdleConnections()
	pollClient := newClient(2)
	defer pollClient.CloseIdleConnections()

	type reg struct {
		at time.Time
		id uuid.UUID
	}
	var (
		mu        sync.Mutex
		regs      []reg
		bad       int
		firstSeen = map[uuid.UUID]time.Time{}
		snaps     []pollSnapshot
		pollLat   []time.Duration
		inFlight  int
		maxIn     int
	)
	// Tap the topic, and make sure the tap reads this campaign's partition:
	// one probe registration must show on it first.
	tap, err := e.newKafkaTap(eventID)
	if err != nil {
		return lagResult{}, err
	}
	defer tap.close()
	status, body, err := e.register(e.ctx, client, eventID)
	var probe struct {
		ParticipantID uuid.UUID `json:"participantId"`
	}
	if err != nil || status != http.StatusCreated || json.Unmarshal(body, &probe) != nil {
		return lagResult{}, fmt.Errorf("probe registration: %d %v %.200s", status, err, body)
	}
	if !tap.waitFor(probe.ParticipantID, 30*time.Second) {
		return lagResult{}, fmt.Errorf("the Kafka tap did not see the probe registration within 30 s")
	}
	if err := e.waitProjected(eventID, 1, 60*time.Second); err != nil {
		return lagResult{}, fmt.Errorf("probe registration: %w", err)
	}
	const base = 1 // the probe

	stopPoll := make(chan struct{})
	pollDone := make(chan error, 1)
	go func() {
		path := fmt.Sprintf("/api/v1/events/%s/participants?page=1&size=100", eventID)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopPoll:
				pollDone <- nil
				return
			case <-tick.C:
			}
			t0 := time.Now()
			status, body, err := e.call(e.ctx, pollClient, http.MethodGet, path, nil, true)
			t1 := time.Now()
			if err != nil || status != http.StatusOK {
				pollDone <- fmt.Errorf("poll: %d %v %.200s", status, err, body)
				return
			}
			var page struct {
				Participants []struct {
					ParticipantID uuid.UUID `json:"participantId"`
				} `json:"participants"`
				TotalCount int64 `json:"totalCount"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				pollDone <- err
				return
			}
			mu.Lock()
			pollLat = append(pollLat, t1.Sub(t0))
			snaps = append(snaps, pollSnapshot{at: t1, total: page.TotalCount})
			for _, p := range page.Participants {
				if _, ok := firstSeen[p.ParticipantID]; !ok {
					firstSeen[p.ParticipantID] = t1
				}
			}
			mu.Unlock()
		}
	}()

	// Open loop: request i is sent at start + i/rate.
	var wg sync.WaitGroup
	cpuStart := e.cpuNow()
	start := time.Now()
	total := int(float64(rate) * dur.Seconds())
	for i := range total {
		due := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		mu.Lock()
		inFlight++
		maxIn = max(maxIn, inFlight)
		mu.Unlock()
		wg.Go(func() {
			status, body, err := e.register(e.ctx, client, eventID)
			t := time.Now()
			var out struct {
				ParticipantID uuid.UUID `json:"participantId"`
			}
			ok := err == nil && status == http.StatusCreated && json.Unmarshal(body, &out) == nil
			mu.Lock()
			inFlight--
			if ok {
				regs = append(regs, reg{at: t, id: out.ParticipantID})
			} else {
				bad++
			}
			mu.Unlock()
		})
	}
	cpuEnd := e.cpuNow()
	wg.Wait()
	elapsed := time.Since(start)

	// Keep polling until everything is visible, or lagTail.
	deadline := time.Now().Add(lagTail)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(snaps)
		done := n > 0 && snaps[n-1].total >= int64(len(regs)+base)
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(stopPoll)
	if err := <-pollDone; err != nil {
		return lagResult{}, err
	}

	mu.Lock()
	defer mu.Unlock()
	slices.SortFunc(regs, func(a, b reg) int { return a.at.Compare(b.at) })
	r := lagResult{CPU: cpuBetween(cpuStart, cpuEnd), Rate: rate, Created: len(regs), NonCreated: bad, MaxInFlight: maxIn,
		Achieved: float64(len(regs)) / elapsed.Seconds(), Poll: latencies(pollLat)}
	lags := make([]time.Duration, 0, len(regs))
	var onKafka []time.Duration
	var lastVisible time.Time
	next := 0 // the first snapshot that may cover the current rank (totals only grow)
	for rank, g := range regs {
		seen, ok := firstSeen[g.id]
		if ok {
			r.SeenDirect++
		} else {
			for next < len(snaps) && snaps[next].total < int64(base+rank+1) {
				next++
			}
			if next < len(snaps) {
				seen = snaps[next].at
			} else {
				r.NeverVisible++
				seen = g.at.Add(lagTail)
			}
		}
		lags = append(lags, max(0, seen.Sub(g.at)))
		if seen.After(lastVisible) {
			lastVisible = seen
		}
		if at, ok := tap.at(g.id); ok {
			onKafka = append(onKafka, max(0, at.Sub(g.at)))
		} else {
			r.NotOnKafka++
		}
	}
	r.Kafka = latencies(onKafka)
	if d := lastVisible.Sub(start); d > 0 {
		r.Drain = float64(len(regs)) / d.Seconds()
	}
	r.Lag = latencies(lags)
	return r, nil
}
