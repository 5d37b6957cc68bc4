package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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

// storeRegistrations is the campaign's entry numbers as the event store has them.
func (e *env) storeRegistrations(eventID uuid.UUID) (map[string]bool, error) {
	rows, err := e.app.Query(e.ctx, `SELECT data->>'entryNumber' FROM events
		WHERE type = 'ParticipantRegistered' AND data->>'eventId' = $1`, eventID.String())
	if err != nil {
		return nil, fmt.Errorf("read the store: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// soakChecks compares each read model of one campaign with the store.
func (e *env) soakChecks(id uuid.UUID) []soakCheck {
	var out []soakCheck
	want, err := e.storeRegistrations(id)
	if err != nil {
		return []soakCheck{{Campaign: id, ReadModel: "store", Note: err.Error()}}
	}
	n := int64(len(want))
	count := func(model string, got int64, note string) {
		out = append(out, soakCheck{Campaign: id, ReadModel: model, Store: n, Read: got, OK: got == n && note == "", Note: note})
	}

	// participants: every entry number, through the CSV.
	got, err := e.csvEntryNumbers(id)
	c := soakCheck{Campaign: id, ReadModel: "participants (CSV, entry numbers)", Store: n, Read: int64(len(got))}
	if err != nil {
		c.Note = err.Error()
	}
	var missing []string
	for k := range want {
		if !got[k] {
			c.Missing++
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && c.Note == "" {
		c.Note = e.whereInStore(id, missing)
	}
	for k := range got {
		if !want[k] {
			c.Extra++
		}
	}
	c.OK = err == nil && c.Missing == 0 && c.Extra == 0
	out = append(out, c)
	total, _, err := e.participantsTotal(id)
	count("participants (totalCount)", total, errText(err))

	// analytics: the total, and the channels and hours adding up to it.
	var a struct {
		Total     int64            `json:"totalParticipants"`
		ByChannel map[string]int64 `json:"byChannel"`
		ByHour    []struct {
			Count int64 `json:"count"`
		} `json:"byHour"`
	}
	err = e.getJSON(fmt.Sprintf("/api/v1/events/%s/analytics", id), &a)
	count("analytics (totalParticipants)", a.Total, errText(err))
	var sum int64
	for _, v := range a.ByChannel {
		sum += v
	}
	count("analytics (sum of byChannel)", sum, errText(err))
	sum = 0
	for _, h := range a.ByHour {
		sum += h.Count
	}
	count("analytics (sum of byHour)", sum, errText(err))

	// winners and draw log: a draw of 10, then the read models against its answer.
	status, body, err := e.call(e.ctx, ownerClient, http.MethodPost, fmt.Sprintf("/api/v1/events/%s/draw-winners", id),
		map[string]any{"winnerCount": 10}, true)
	var draw struct {
		DrawLogID uuid.UUID `json:"drawLogId"`
		Winners   []struct {
			EntryNumber string `json:"entryNumber"`
		} `json:"winners"`
	}
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &draw) != nil {
		out = append(out, soakCheck{Campaign: id, ReadModel: "draw", Note: fmt.Sprintf("draw: %d %v %.200s", status, err, body)})
		return out
	}
	drawn := map[string]bool{}
	for _, w := range draw.Winners {
		drawn[w.EntryNumber] = true
	}
	var winners struct {
		Winners []struct {
			EntryNumber string `json:"entryNumber"`
		} `json:"winners"`
	}
	var logs struct {
		DrawLogs []struct {
			DrawLogID      uuid.UUID `json:"drawLogId"`
			CandidateCount int64     `json:"candidateCount"`
		} `json:"drawLogs"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for { // the read side catches up with the draw
		err = e.getJSON(fmt.Sprintf("/api/v1/events/%s/winners", id), &winners)
		err2 := e.getJSON(fmt.Sprintf("/api/v1/events/%s/draw-logs", id), &logs)
		if (err == nil && err2 == nil && len(winners.Winners) == len(drawn) && len(logs.DrawLogs) == 1) || time.Now().After(deadline) {
			if err == nil {
				err = err2
			}
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	w := soakCheck{Campaign: id, ReadModel: "winners (entry numbers of the draw's answer)", Store: int64(len(drawn)), Read: int64(len(winners.Winners)), Note: errText(err)}
	for _, x := range winners.Winners {
		if !drawn[x.EntryNumber] {
			w.Extra++
		}
		if !want[x.EntryNumber] {
			w.Note = "a winner that is not a registration in the store"
		}
	}
	w.OK = err == nil && w.Extra == 0 && w.Read == w.Store && w.Note == ""
	out = append(out, w)
	var cand int64 = -1
	if len(logs.DrawLogs) == 1 && logs.DrawLogs[0].DrawLogID == draw.DrawLogID {
		cand = logs.DrawLogs[0].CandidateCount
	}
	count("draw log (candidateCount)", cand, errText(err))
	return out
}

// whereInStore names the store positions and transactions of registrations
// a read model misses, for whoever looks into it.
func (e *env) whereInStore(id uuid.UUID, entryNumbers []string) string {
	rows, err := e.app.Query(e.ctx, `SELECT position, tx_id::text FROM events
		WHERE type = 'ParticipantRegistered' AND data->>'eventId' = $1 AND data->>'entryNumber' = ANY($2)
		ORDER BY position LIMIT 20`, id.String(), entryNumbers)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var pos int64
		var tx string
		if rows.Scan(&pos, &tx) == nil {
			parts = append(parts, fmt.Sprintf("%d (tx %s)", pos, tx))
		}
	}
	return "missing at store positions " + strings.Join(parts, ", ")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (e *env) getJSON(path string, dst any) error {
	status, body, err := e.call(e.ctx, ownerClient, http.MethodGet, path, nil, true)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %.200s", path, status, body)
	}
	return json.Unmarshal(body, dst)
}

// csvEntryNumbers reads the campaign's CSV export and returns its entry numbers.
func (e *env) csvEntryNumbers(id uuid.UUID) (map[string]bool, error) {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/events/%s/participants.csv", e.svc.base, id), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := ownerClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("CSV: %d %.200s", resp.StatusCode, b)
	}
	br := bufio.NewReader(resp.Body)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		_, _ = br.Discard(3)
	}
	rd := csv.NewReader(br)
	header, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	col := slices.Index(header, "entryNumber")
	if col < 0 {
		return nil, fmt.Errorf("CSV header has no entryNumber: %v", header)
	}
	out := map[string]bool{}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("CSV: %w", err)
		}
		out[rec[col]] = true
	}
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
