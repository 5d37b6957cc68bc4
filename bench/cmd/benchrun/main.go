// Command benchrun is the benchmark harness behind `make bench`: it measures
// the participation service end to end on a durable PostgreSQL, each figure
// next to a baseline measured in the same run on the same database, and
// writes bench/results/latest.md and latest.json (see bench/README.md).
//
// Run it under deploy/postgres/with-postgres.sh (which exports DATABASE_URL);
// it starts an in-process Kafka-protocol broker (kfake) and the real
// `participation serve` binary itself.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kfake"
)

type options struct {
	bin            string
	out            string
	work           string
	reps           int
	clients        []int
	warmup         time.Duration
	duration       time.Duration
	storeDuration  time.Duration
	lagRate        int
	lagDuration    time.Duration
	large          int
	small          int
	drawReps1M     int
	listRequests   int
	listSize       int
	copyRows       int
	catchupTimeout time.Duration
	sections       map[int]bool
	logLevel       string
	topic          string
	soak           time.Duration
	soakRate       int
	soakCampaigns  int
	pipelineEvents int
	sustained      sustainedOptions
	cpuProfile     string
	// idempotencyKeys sends a fresh Idempotency-Key with every
	// registration, as the customer page does.
	idempotencyKeys bool
}

func parseOptions() options {
	var o options
	var clients, sections string
	flag.StringVar(&o.bin, "participation", "", "the participation binary (empty: go build ./cmd/participation into -work)")
	flag.StringVar(&o.out, "out", "bench/results", "where latest.md, latest.json and the profile go")
	flag.StringVar(&o.work, "work", "bench/.work", "scratch directory (logs, pgbench files)")
	flag.IntVar(&o.reps, "reps", 3, "repetitions of each measurement (medians are reported)")
	flag.StringVar(&clients, "clients", "1,16,64", "concurrent HTTP clients (and pgbench clients) of section 1")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each HTTP load run")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time of each HTTP load and pgbench run")
	flag.DurationVar(&o.storeDuration, "store-duration", 5*time.Second, "measured time of each event-store run (section 2)")
	flag.IntVar(&o.lagRate, "lag-rate", 2000, "registrations/s of the lag run (lowered to what section 1 shows the machine sustains)")
	flag.DurationVar(&o.lagDuration, "lag-duration", 10*time.Second, "length of the lag run")
	flag.IntVar(&o.large, "large", 1_000_000, "participants of the large campaigns (draw, list, CSV) and events of the rebuild")
	flag.IntVar(&o.small, "small", 100_000, "participants of the small campaigns (draw, CSV memory comparison)")
	flag.IntVar(&o.drawReps1M, "draw-reps-large", 1, "HTTP draws per mode over the large campaign (each needs a freshly seeded campaign)")
	flag.IntVar(&o.listRequests, "list-requests", 200, "requests per page and repetition (section 6)")
	flag.IntVar(&o.listSize, "list-size", 100, "page size of the list (the API's maximum is 100)")
	flag.IntVar(&o.copyRows, "copy-rows", 1_000_000, "rows of the raw COPY baseline (section 4)")
	flag.DurationVar(&o.catchupTimeout, "catchup-timeout", 5*time.Minute, "how long to wait for the read side to catch up before a read measurement")
	flag.IntVar(&o.pipelineEvents, "pipeline-events", 200_000, "registrations of the campaign sections 8 (relay) and 9 (projector) move")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the harness itself (sections 8's baseline and 9's projectors run in it) to this file")
	flag.BoolVar(&o.idempotencyKeys, "idempotency-keys", false, "send a fresh Idempotency-Key with every registration (as the customer page does)")
	flag.StringVar(&sections, "sections", "1,2,3,4,5,6,7,8,9", "sections to run")
	flag.StringVar(&o.logLevel, "serve-log-level", "info", "LOG_LEVEL of the serve process (info: one line per request, as in production)")
	flag.StringVar(&o.topic, "topic", "participant-events", "Kafka topic")
	flag.DurationVar(&o.soak, "soak", 0, "run the soak instead of the sections, this long (make soak: 10m); writes soak-latest.{md,json}")
	flag.IntVar(&o.soakRate, "soak-rate", 1000, "registrations/s of the soak (open loop)")
	flag.IntVar(&o.soakCampaigns, "soak-campaigns", 10, "campaigns the soak's registrations are spread over")
	sustainedFlags(&o.sustained)
	flag.Parse()
	if err := o.sustained.parse(); err != nil {
		log.Fatal(err)
	}
	for _, c := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			log.Fatalf("-clients: %q", c)
		}
		o.clients = append(o.clients, n)
	}
	o.sections = map[int]bool{}
	for _, s := range strings.Split(sections, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			log.Fatalf("-sections: %q", s)
		}
		o.sections[n] = true
	}
	return o
}

// env is everything the sections share.
type env struct {
	ctx       context.Context
	o         options
	rootURL   string
	admin     *pgxpool.Pool
	appURL    string
	app       *pgxpool.Pool
	kafka     *kfake.Cluster
	brokers   string
	jwtSecret string
	piiKey    string
	svc       *service
	token     string
	report    *Report

	// results shared between sections
	maxThroughput float64   // section 1: best median throughput (registrations/s)
	s1Campaign    uuid.UUID // section 1's campaign and its registrations so far
	s1Registered  int64
	pipeline      *pipelineData // sections 8 and 9: one seeded campaign

	postmasterPID int // the bench server's postmaster (cpu.go)

	serveEnv []string // extra environment of the next serve (section 7: KAFKA_PARTITIONS, KAFKA_TOPIC)
}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")
	o := parseOptions()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	e := &env{ctx: ctx, o: o, report: &Report{}}
	if err := e.setup(); err != nil {
		e.teardown()
		log.Fatal(err)
	}
	if o.soak > 0 {
		if err := e.runSoak(); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s in %s", filepath.Join(o.out, "soak-latest.md"), time.Since(started).Round(time.Second))
		return
	}
	e.run()
	e.teardown()

	e.report.Header.DurationSeconds = time.Since(started).Seconds()
	if err := e.report.write(o.out); err != nil {
		log.Fatal(err)
	}
	fmt.Print(e.report.Markdown())
	log.Printf("wrote %s and %s in %s", filepath.Join(o.out, "latest.md"), filepath.Join(o.out, "latest.json"),
		time.Since(started).Round(time.Second))
}

func (e *env) setup() error {
	e.rootURL = os.Getenv("DATABASE_URL")
	if e.rootURL == "" {
		return fmt.Errorf("DATABASE_URL is not set: run under deploy/postgres/with-postgres.sh (make bench does)")
	}
	for _, d := range []string{e.o.out, e.o.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if e.o.bin == "" {
		e.o.bin = filepath.Join(e.o.work, "participation")
		log.Printf("building %s", e.o.bin)
		if out, err := exec.Command("go", "build", "-o", e.o.bin, "./cmd/participation").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	bin, err := filepath.Abs(e.o.bin)
	if err != nil {
		return err
	}
	e.o.bin = bin

	if e.admin, err = pgxpool.New(e.ctx, e.rootURL); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if err := e.header(); err != nil {
		return err
	}
	if e.report.Header.Fsync != "on" || e.report.Header.SynchronousCommit != "on" {
		msg := fmt.Sprintf("PostgreSQL is NOT durable (fsync=%s, synchronous_commit=%s): figures are not comparable to the targets; use PG_DURABLE=1 (make bench)",
			e.report.Header.Fsync, e.report.Header.SynchronousCommit)
		log.Print("WARNING: " + msg)
		e.report.Notes = append(e.report.Notes, "**"+msg+"**")
	}

	if e.appURL, e.app, err = e.freshDatabase("bench_app", 40); err != nil {
		return err
	}
	e.kafka, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, e.o.topic),
		kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
	if err != nil {
		return fmt.Errorf("kfake: %w", err)
	}
	e.brokers = strings.Join(e.kafka.ListenAddrs(), ",")
	e.jwtSecret, e.piiKey = randomHex(32), randomHex(16)
	return nil
}

func (e *env) teardown() {
	if e.svc != nil {
		e.svc.stop()
		e.svc = nil
	}
	if e.kafka != nil {
		e.kafka.Close()
	}
	if e.app != nil {
		e.app.Close()
	}
	if e.pipeline != nil && e.pipeline.pool != nil {
		e.pipeline.pool.Close()
	}
	if e.admin != nil {
		e.admin.Close()
	}
}

// run runs the sections in an order that keeps background work (relay,
// projections catching up) out of the measurements as far as possible, and
// reports them in their numbered order.
func (e *env) run() {
	sections := map[int]*Section{}
	want := maps.Clone(e.o.sections)
	do := func(n int, f func() *Section) {
		if !want[n] || e.ctx.Err() != nil {
			return
		}
		start := time.Now()
		log.Printf("section %d: start", n)
		s := f()
		log.Printf("section %d: %s (%s)", n, s.Status, time.Since(start).Round(time.Second))
		sections[n] = s
	}
	// Sections 2 and 4 need no service: they run first, on a quiet machine.
	do(2, e.section2)
	do(4, func() *Section { return e.section4(e.section4Baseline()) })
	// Sections 8 and 9 run their own relay and projectors, before serve starts.
	do(8, e.section8)
	do(9, e.section9)
	if want[1] || want[3] || want[5] || want[6] {
		if err := e.startService(); err != nil {
			log.Printf("service: %v", err)
			for _, n := range []int{1, 3, 5, 6} {
				if want[n] {
					sections[n] = &Section{Number: n, Title: titles[n], Status: "error: " + err.Error()}
				}
				delete(want, n)
			}
		}
	}
	// Section 3 before section 1: the read side starts idle, not behind
	// section 1's hundred thousand registrations.
	do(3, e.section3)
	do(1, e.section1)
	var seeded *seededData
	if want[5] || want[6] {
		seeded = e.seedForReads()
	}
	do(6, func() *Section { return e.section6(seeded) })
	do(5, func() *Section { return e.section5(seeded) })
	// Section 7 restarts serve on databases and topics of its own: last.
	do(7, e.section7)
	for _, n := range slices.Sorted(maps.Keys(sections)) {
		e.report.Sections = append(e.report.Sections, sections[n])
	}
}

var titles = map[int]string{
	1: "Registrations over HTTP (closed loop) vs pgbench single-row INSERT",
	2: "Event-store append vs raw INSERT through pgx",
	3: "End-to-end lag: 201 → visible in the owner's participant list",
	4: "Rebuild of the read models vs raw COPY into an indexed table",
	5: "Draw",
	6: "Participant list and CSV export",
	7: "Sustained registrations with the read side running",
	8: "Relay: store → Kafka, one campaign",
	9: "Projector: one partition, durable",
}

func (e *env) header() error {
	h := &e.report.Header
	h.Date = time.Now().Format(time.RFC3339)
	h.CPUCount = runtime.NumCPU()
	h.CPUModel = cpuModel()
	h.GoVersion = runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		h.GoVersion = strings.TrimSpace(string(out))
	}
	h.GitCommit = gitCommit()
	h.Repetitions = e.o.reps
	h.Command = "make bench"
	for _, q := range []struct {
		sql string
		to  *string
	}{
		{"SELECT version()", &h.PostgresVersion},
		{"SHOW fsync", &h.Fsync},
		{"SHOW synchronous_commit", &h.SynchronousCommit},
		{"SHOW full_page_writes", &h.FullPageWrites},
	} {
		if err := e.admin.QueryRow(e.ctx, q.sql).Scan(q.to); err != nil {
			return fmt.Errorf("%s: %w", q.sql, err)
		}
	}
	if i := strings.Index(h.PostgresVersion, " on "); i > 0 {
		h.PostgresVersion = h.PostgresVersion[:i]
	}
	return nil
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		commit += " (+ uncommitted changes)"
	}
	return commit
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
