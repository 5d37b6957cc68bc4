package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// cpuSnapshot is the CPU time so far of the machine and of the processes
// that share it during a run, in clock ticks (USER_HZ, 100 on Linux).
type cpuSnapshot struct {
	at                     time.Time
	busy, total            float64 // machine (all cores)
	serve, postgres, bench float64
	pgbench                float64
}

const ticksPerSecond = 100

// procTicks is utime+stime of /proc/PID/stat, and the command name.
func procTicks(statPath string) (string, float64, bool) {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0, false
	}
	comm := s[open+1 : closing]
	fields := strings.Fields(s[closing+1:])
	if len(fields) < 13 {
		return "", 0, false
	}
	// after the comm: state(0) ... utime(11) stime(12)
	u, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return comm, u + st, true
}

// procParent is the parent pid of /proc/PID/stat (0 when unreadable).
func procParent(statPath string) int {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return 0
	}
	s := string(b)
	closing := strings.LastIndexByte(s, ')')
	fields := strings.Fields(s[closing+1:])
	if closing < 0 || len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1]) // state(0) ppid(1)
	return ppid
}

// postmaster is the pid of the bench's PostgreSQL server (0: unknown, and
// every postgres process on the machine counts): on a machine shared with
// other servers and other benches only this server's processes are its.
func (e *env) postmaster() int {
	if e.postmasterPID == 0 && e.admin != nil {
		var backend int
		if err := e.admin.QueryRow(e.ctx, `SELECT pg_backend_pid()`).Scan(&backend); err == nil {
			e.postmasterPID = procParent(fmt.Sprintf("/proc/%d/stat", backend))
		}
	}
	return e.postmasterPID
}

func (e *env) cpuNow() cpuSnapshot {
	snap := cpuSnapshot{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		fields := strings.Fields(line)
		for i, f := range fields[1:] {
			v, _ := strconv.ParseFloat(f, 64)
			snap.total += v
			if i != 3 && i != 4 { // idle, iowait
				snap.busy += v
			}
		}
	}
	if e.svc != nil {
		_, snap.serve, _ = procTicks(fmt.Sprintf("/proc/%d/stat", e.svc.pid()))
	}
	_, snap.bench, _ = procTicks("/proc/self/stat")
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	server, self := e.postmaster(), os.Getpid()
	mine := func(p string, parent int) bool {
		if parent == 0 {
			return true
		}
		return p == fmt.Sprintf("/proc/%d/stat", parent) || procParent(p) == parent
	}
	for _, p := range stats {
		comm, t, ok := procTicks(p)
		switch {
		case !ok:
		case comm == "postgres" && mine(p, server):
			snap.postgres += t
		case comm == "pgbench" && mine(p, self):
			snap.pgbench += t
		}
	}
	return snap
}

// cpuShare is the cores each party used between two snapshots.
type cpuShare struct {
	Machine  float64 `json:"machine_busy_cores"`
	Serve    float64 `json:"serve_cores"`
	Postgres float64 `json:"postgres_cores"`
	Bench    float64 `json:"bench_cores"` // load generator + kfake
	Pgbench  float64 `json:"pgbench_cores,omitempty"`
	Other    float64 `json:"other_cores"`
}

func cpuBetween(a, b cpuSnapshot) cpuShare {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return cpuShare{}
	}
	cores := func(d float64) float64 { return d / ticksPerSecond / secs }
	s := cpuShare{Serve: cores(b.serve - a.serve), Postgres: cores(b.postgres - a.postgres), Bench: cores(b.bench - a.bench),
		Pgbench: cores(max(0, b.pgbench-a.pgbench))}
	if b.total > a.total {
		// /proc/stat counts all cores: scale its busy share to cores
		s.Machine = (b.busy - a.busy) / (b.total - a.total) * float64(numCPU())
	}
	s.Other = max(0, s.Machine-s.Serve-s.Postgres-s.Bench-s.Pgbench)
	return s
}

func (c cpuShare) String() string {
	out := fmt.Sprintf("machine %.2f cores busy: serve %.2f, PostgreSQL %.2f, bench (load generator + kfake) %.2f", c.Machine, c.Serve, c.Postgres, c.Bench)
	if c.Pgbench > 0 {
		out += fmt.Sprintf(", pgbench %.2f", c.Pgbench)
	}
	return out + fmt.Sprintf(", other %.2f", c.Other)
}

func numCPU() int { return runtime.NumCPU() }

// medianShare is the field-wise median of several runs' shares.
func medianShare(xs []cpuShare) cpuShare {
	pick := func(f func(cpuShare) float64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		return median(v)
	}
	return cpuShare{
		Machine:  pick(func(c cpuShare) float64 { return c.Machine }),
		Serve:    pick(func(c cpuShare) float64 { return c.Serve }),
		Postgres: pick(func(c cpuShare) float64 { return c.Postgres }),
		Bench:    pick(func(c cpuShare) float64 { return c.Bench }),
		Pgbench:  pick(func(c cpuShare) float64 { return c.Pgbench }),
		Other:    pick(func(c cpuShare) float64 { return c.Other }),
	}
}
