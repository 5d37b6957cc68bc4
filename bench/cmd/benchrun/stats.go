package main

import (
	"slices"
	"time"
)

// median of xs (0 for none); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile by nearest rank over sorted (ascending) values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// latencyStats are p50/p99/max in milliseconds of a set of durations.
type latencyStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func latencies(ds []time.Duration) latencyStats {
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
	}
	return latenciesMS(ms)
}

func latenciesMS(ms []float64) latencyStats {
	s := slices.Clone(ms)
	slices.Sort(s)
	st := latencyStats{Count: len(s), P50: percentile(s, 50), P99: percentile(s, 99)}
	if len(s) > 0 {
		st.Max = s[len(s)-1]
	}
	return st
}

func seconds(d time.Duration) float64 { return d.Seconds() }
