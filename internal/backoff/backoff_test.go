package backoff_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shopevents/participation/internal/backoff"
)

func TestNextDoublesUpToTheCapAndResets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		first, limit time.Duration
		want         []time.Duration
	}{
		{"doubles to the cap", 100 * time.Millisecond, time.Second,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}},
		{"a cap below the first wait is the first wait", time.Second, time.Millisecond,
			[]time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backoff.New(tt.first, tt.limit)
			got := make([]time.Duration, len(tt.want))
			for i := range got {
				got[i] = b.Next()
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("waits %v, want %v", got, tt.want)
			}
			b.Reset()
			if got := b.Next(); got != tt.first {
				t.Fatalf("after Reset: %v, want %v", got, tt.first)
			}
		})
	}
}

func TestDelayAfterNFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second},
		{7, time.Minute}, {1 << 20, time.Minute}, // no overflow however long the run of failures
	}
	for _, tt := range tests {
		if got := backoff.Delay(time.Second, time.Minute, tt.n); got != tt.want {
			t.Errorf("Delay(1s, 1m, %d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	t.Parallel()
	if !backoff.Sleep(context.Background(), time.Millisecond) {
		t.Fatal("a short sleep did not pass")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if backoff.Sleep(ctx, time.Hour) {
		t.Fatal("a sleep of an ended context passed")
	}
}
