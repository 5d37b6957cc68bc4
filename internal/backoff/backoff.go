// Package backoff is the one retry pacing of the service: a wait that
// doubles after each failure from a first pause up to a cap, and goes back
// to the first pause after a success.
package backoff

import (
	"context"
	"time"
)

// Backoff paces the retries of one loop. The zero value is not usable:
// build it with New. It is not safe for concurrent use.
type Backoff struct {
	first, limit, next time.Duration
}

// New returns a Backoff whose first wait is first, doubled up to limit.
func New(first, limit time.Duration) *Backoff {
	return &Backoff{first: first, limit: max(first, limit), next: first}
}

// Next returns the wait before the next try, and doubles the one after
// it (up to the cap).
func (b *Backoff) Next() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.limit)
	return d
}

// Reset goes back to the first wait, after a success.
func (b *Backoff) Reset() { b.next = b.first }

// Delay is the wait after n failures in a row (n ≥ 1) for loops that keep
// their own count: first doubled n−1 times, capped at limit.
func Delay(first, limit time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Sleep waits d, or until ctx ends; it reports whether the whole wait
// passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
