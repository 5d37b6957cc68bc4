package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// The soak (`make soak`, DESIGN.md's soak target): registrations at a steady
// open-loop rate for a long time, spread over a few campaigns; once a minute
// serve's RSS and goroutines; at the end every read model is checked against
// the event store, registration by registration where the read model lists
// them (participants through the CSV, winners and draw log through a draw).

// soakMinute is one minute of the soak.
type soakMinute struct {
	Minute     int   `json:"minute"`
	RSSKiB     int64 `json:"rss_kib"`
	Goroutines int64 `json:"goroutines"`
	// The client's side of the gauge: the server runs a goroutine per open
	// connection and another per request in flight. What is left is the
	// service's own, the figure a leak would grow. Each is the median of the
	// minute's samples (one a second), as are RSS and goroutines.
	Connections int64        `json:"client_connections"`
	InFlight    int64        `json:"in_flight"`
	Own         int64        `json:"own_goroutines"`
	Samples     int          `json:"samples"`
	Sent        int64        `json:"sent"`
	Created     int64        `json:"created"`
	Errors      int64        `json:"errors"`
	Latency     latencyStats `json:"latency"`
	Visible     int64        `json:"visible"` // participants listed by the read side at the sample
	Load        float64      `json:"load1"`   // the machine's 1-minute load average (it is shared)
}

// soakCheck is one comparison of a read model with the store.
type soakCheck struct {
	Campaign  uuid.UUID `json:"campaign"`
	ReadModel string    `json:"read_model"`
	Store     int64     `json:"store"`
	Read      int64     `json:"read"`
	Missing   int       `json:"missing,omitempty"` // in the store, not in the read model
	Extra     int       `json:"extra,omitempty"`   // in the read model, not in the store
	OK        bool      `json:"ok"`
	Note      string    `json:"note,omitempty"`
}

type soakReport struct {
	Header    Header       `json:"header"`
	Rate      int          `json:"rate"`
	Duration  float64      `json:"duration_s"`
	Campaigns int          `json:"campaigns"`
	Minutes   []soakMinute `json:"minutes"`
	Checks    []soakCheck  `json:"checks"`
	Errors    []string     `json:"errors"`          // non-201 answers and transport errors
	ReadSide  []string     `json:"read_side"`       // the read side not catching up
	Idle      [2]int64     `json:"idle_goroutines"` // before and after the load, connections closed
	CatchUp   float64      `json:"catch_up_s"`
	Achieved  float64      `json:"achieved_per_s"`
	Notes     []string     `json:"notes"`
}

func (e *env) soak() *soakReport {
	r := &soakReport{Header: e.report.Header, Rate: e.o.soakRate, Duration: e.o.soak.Seconds(), Campaigns: e.o.soakCampaigns}
	r.Header.Command = "make soak"
	r.Notes = append(r.Notes, e.report.Notes...)
	fail := func(err error) *soakReport { r.Errors = append(r.Errors, err.Error()); return r }
	if err := e.startService(); err != nil {
		return fail(err)
	}
	campaigns := make([]uuid.UUID, e.o.soakCampaigns)
	for i := range campaigns {
		id, err := e.openCampaign(fmt.Sprintf("soak %d", i+1))
		if err != nil {
			return fail(err)
		}
		campaigns[i] = id
	}

	client, openConns := newCountingClient(512)
	defer client.CloseIdleConnections()
	var (
		sent, created, errs atomic.Int64
		mu                  sync.Mutex
		lat                 []time.Duration
		errSamples          = map[string]int{}
		wg                  sync.WaitGroup
		inFlight            = make(chan struct{}, 1024)
		gaugeSamples        = new(gaugeSampler)
		sampleMu            sync.Mutex // a late sample must not overlap the next one
	)
	record := func(d time.Duration, status int, body []byte, err error) {
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, d)
		if err == nil && status == http.StatusCreated {
			created.Add(1)
			return
		}
		errs.Add(1)
		key := fmt.Sprintf("%d %.120s", status, body)
		if err != nil {
			key = err.Error()
		}
		errSamples[key]++
	}
	sample := func(minute int) {
		sampleMu.Lock()
		defer sampleMu.Unlock()
		m := soakMinute{Minute: minute, Sent: sent.Load(), Created: created.Load(), Errors: errs.Load()}
		g := gaugeSamples.take()
		if g.Samples == 0 { // the load ended right after the last whole minute's row
			rss, _ := procStatus(e.svc.pid(), "VmRSS")
			gaugeSamples.add(rss, e.goroutines(), openConns.Load(), int64(len(inFlight)))
			g = gaugeSamples.take()
		}
		m.RSSKiB, m.Goroutines, m.Connections, m.InFlight, m.Own, m.Samples = g.RSSKiB, g.Goroutines, g.Connections, g.InFlight, g.Own, g.Samples
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			m.Load, _ = strconv.ParseFloat(strings.Fields(string(b))[0], 64)
		}
		mu.Lock()
		m.Latency = latencies(lat)
		lat = lat[:0]
		mu.Unlock()
		for _, id := range campaigns {
			if n, _, err := e.participantsTotal(id); err == nil {
				m.Visible += n
			}
		}
		log.Printf("soak: minute %d: RSS %d MiB, %d goroutines, %d sent, %d created, %d errors, p99 %.0f ms, %d visible",
			minute, m.RSSKiB>>10, m.Goroutines, m.Sent, m.Created, m.Errors, m.Latency.P99, m.Visible)
		r.Minutes = append(r.Minutes, m)
	}

	gaugeCtx, stopGauges := context.WithCancel(e.ctx)
	defer stopGauges()
	go gaugeSamples.run(gaugeCtx, e, time.Second, openConns, func() int { return len(inFlight) })
	time.Sleep(5 * time.Second) // minute 0: the idle service, a few samples
	sample(0)
	r.Idle[0] = r.Minutes[0].Own
	start := time.Now()
	total := int(float64(e.o.soakRate) * e.o.soak.Seconds())
	nextSample := start.Add(time.Minute)
	minute := 1
	behind := 0
	// The soak lasts its duration: what the service could not take by then
	// is not sent, and shows as the achieved rate falling short.
	deadline := start.Add(e.o.soak)
	for i := 0; i < total && e.ctx.Err() == nil && time.Now().Before(deadline); i++ {
		due := start.Add(time.Duration(float64(i) / float64(e.o.soakRate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		} else if d < -time.Second {
			behind++
		}
		if time.Now().After(nextSample) {
			go sample(minute) // off the pacing loop; samples never overlap (a minute apart)
			minute++
			nextSample = nextSample.Add(time.Minute)
		}
		inFlight <- struct{}{}
		wg.Add(1)
		sent.Add(1)
		go func(eventID uuid.UUID) {
			defer func() { <-inFlight; wg.Done() }()
			t0 := time.Now()
			status, body, err := e.register(e.ctx, client, eventID)
			record(time.Since(t0), status, body, err)
		}(campaigns[i%len(campaigns)])
	}
	wg.Wait()
	elapsed := time.Since(start)
	sample(minute)
	stopGauges()
	client.CloseIdleConnections() // their server goroutines are not the service's own
	time.Sleep(5 * time.Second)
	r.Idle[1] = e.goroutines() - openConns.Load()
	r.Achieved = float64(sent.Load()) / elapsed.Seconds()
	r.Notes = append(r.Notes, fmt.Sprintf("Sent %d registrations in %s: %.0f/s achieved against %d/s asked; %d were sent more than 1 s late (client or server behind).",
		sent.Load(), elapsed.Round(time.Second), float64(sent.Load())/elapsed.Seconds(), e.o.soakRate, behind))
	for k, n := range errSamples {
		r.Errors = append(r.Errors, fmt.Sprintf("%d × %s", n, k))
	}
	slices.Sort(r.Errors)

	// One budget for the whole catch-up: a read side that stopped short
	// does not get it again for every campaign.
	catchStart := time.Now()
	for _, id := range campaigns {
		want, err := e.storeRegistrations(id)
		if err != nil {
			return fail(err)
		}
		budget := max(e.o.catchupTimeout-time.Since(catchStart), 10*time.Second)
		if err := e.waitProjected(id, int64(len(want)), budget); err != nil {
			r.ReadSide = append(r.ReadSide, fmt.Sprintf("campaign %s: %v", id, err))
		}
	}
	r.CatchUp = time.Since(catchStart).Seconds()
	for _, id := range campaigns {
		r.Checks = append(r.Checks, e.soakChecks(id)...)
	}
	return r
}

// goroutines reads serve's go_goroutines gauge from its metrics listener,
// or from the API's port where /metrics still lives there.
func (e *env) goroutines() int64 {
	for _, base := range []string{e.svc.pprof, e.svc.base} {
		if base == "" {
			continue
		}
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
				resp.Body.Close()
				n, _ := strconv.ParseFloat(v, 64)
				return int64(n)
			}
		}
		resp.Body.Close()
	}
	return -1
}

// runSoak is main's soak mode.
func (e *env) runSoak() error {
	r := e.soak()
	e.teardown()
	if err := r.write(e.o.out); err != nil {
		return err
	}
	fmt.Print(r.Markdown())
	return nil
}
