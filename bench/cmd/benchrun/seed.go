package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// seededData are the campaigns seeded for sections 5 and 6.
type seededData struct {
	large       []uuid.UUID // large[0] serves the list and CSV, then a draw
	small       []uuid.UUID
	err         error
	readSide    error // errReadSideMissing when GET participants answers 503
	waited      time.Duration
	rebuilt     time.Duration // the read models were rebuilt from the store after seeding
	sinceSeeded time.Duration // from the end of the large campaign's seeding to the measurement
	drainRate   float64       // participants of the large campaign made visible per second while waiting
	seconds     map[string]float64
}

var campaignLine = regexp.MustCompile(`(?m)^campaign ([0-9a-f-]{36}) `)

// seed runs `participation seed` and returns the campaigns it made: ended
// and announced at once, so that a draw's leaves are public (section 5).
func (e *env) seed(campaigns, participants int) ([]uuid.UUID, time.Duration, error) {
	log.Printf("seeding %d campaign(s) × %d participants (visit ratio 0.2)", campaigns, participants)
	cmd := exec.CommandContext(e.ctx, e.o.bin, "seed", "--campaigns", strconv.Itoa(campaigns),
		"--participants", strconv.Itoa(participants), "--visit-ratio", "0.2", "--owner", "bench", "--announced")
	cmd.Env = e.serviceEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("seed: %v: %s", err, tailBytes(stderr.Bytes(), 500))
	}
	elapsed := time.Since(start)
	var ids []uuid.UUID
	for _, m := range campaignLine.FindAllStringSubmatch(stdout.String(), -1) {
		ids = append(ids, uuid.MustParse(m[1]))
	}
	if len(ids) != campaigns {
		return nil, 0, fmt.Errorf("seed printed %d campaigns, want %d:\n%s", len(ids), campaigns, stdout.String())
	}
	log.Printf("seeded %d × %d in %s (%.0f participants/s)", campaigns, participants, elapsed.Round(time.Second),
		float64(campaigns*participants)/elapsed.Seconds())
	return ids, elapsed, nil
}

// seedForReads seeds every campaign sections 5 and 6 use — one small and
// the first large one (section 6 lists and exports them, section 5 then
// draws them), then the other small and large ones section 5 draws — and
// waits until the read side shows the first two complete, or until
// -catchup-timeout after the seeding began (at least 30 s after it ended):
// the seeding overlaps the read side's catching up.
func (e *env) seedForReads() *seededData {
	d := &seededData{seconds: map[string]float64{}}
	began := time.Now()
	type batch struct {
		n, size int
		into    *[]uuid.UUID
		key     string
	}
	plan := []batch{{1, e.o.small, &d.small, "small"}, {1, e.o.large, &d.large, "large"}}
	if e.o.sections[5] {
		plan = append(plan, batch{2*e.o.reps - 1, e.o.small, &d.small, "small_more"},
			batch{2*e.o.drawReps1M - 1, e.o.large, &d.large, "large_more"})
	}
	var largeDone time.Time
	for i, p := range plan {
		if p.n < 1 {
			continue
		}
		ids, t, err := e.seed(p.n, p.size)
		if err != nil {
			d.err = err
			return d
		}
		*p.into = append(*p.into, ids...)
		d.seconds[p.key] = t.Seconds()
		if i == 1 {
			largeDone = time.Now()
		}
	}
	// HOOK: once `projections rebuild --all` exists, the read models are
	// rebuilt from the store here (the operator's way to fill them fast)
	// instead of waiting for the live projectors to consume the seed from Kafka.
	if e.rebuildAvailable() {
		log.Printf("rebuilding the read models of bench_app from the store")
		cmd := exec.CommandContext(e.ctx, e.o.bin, "projections", "rebuild", "--all")
		cmd.Env = e.serviceEnv()
		rs := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Printf("projections rebuild --all: %v: %s", err, tailBytes(out, 500))
		} else {
			d.rebuilt = time.Since(rs)
		}
	}
	before, _, _ := e.participantsTotal(d.large[0])
	start := time.Now()
	deadline := began.Add(e.o.catchupTimeout)
	if until := time.Until(deadline); until < 30*time.Second {
		deadline = time.Now().Add(30 * time.Second)
	}
	d.readSide = e.quiesce(map[uuid.UUID]int64{d.small[0]: int64(e.o.small), d.large[0]: int64(e.o.large)}, deadline)
	after, _, _ := e.participantsTotal(d.large[0])
	d.waited = time.Since(start)
	d.sinceSeeded = time.Since(largeDone)
	d.drainRate = float64(after-before) / d.waited.Seconds()
	return d
}

// quiesce waits until the read side shows the given campaigns complete
// (skipped when it answers 503), or deadline.
func (e *env) quiesce(want map[uuid.UUID]int64, deadline time.Time) error {
	for id, n := range want {
		if err := e.waitProjected(id, n, max(time.Until(deadline), time.Second)); err != nil {
			if !errors.Is(err, errReadSideMissing) {
				log.Printf("read side: %v", err)
			}
			return err
		}
	}
	return nil
}

// metric reads a gauge from /metrics: the largest value over its label sets.
func (e *env) metric(name string) (float64, error) {
	resp, err := http.Get(e.svc.pprof + "/metrics") // METRICS_ADDR, not the API's port
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	found, best := false, 0.0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		if !found || v > best {
			best = v
		}
		found = true
	}
	if !found {
		return 0, fmt.Errorf("%s not in /metrics", name)
	}
	return best, nil
}

// backlog describes what the relay and the projectors still have to do.
func (e *env) backlog() string {
	relay, err1 := e.metric("participation_relay_lag_events")
	proj, err2 := e.metric("participation_projection_lag_events")
	if err1 != nil || err2 != nil {
		return "unknown"
	}
	return fmt.Sprintf("relay %s events behind, slowest projection %s events behind", groupThousands(fmt.Sprintf("%.0f", relay)), groupThousands(fmt.Sprintf("%.0f", proj)))
}
