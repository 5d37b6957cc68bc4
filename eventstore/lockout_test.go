package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

func newLockout(t *testing.T) (*eventstore.Lockout, *pgxpool.Pool) {
	t.Helper()
	pool := testenv.Pool(t, 8)
	if err := eventstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool).Lockout(eventstore.LockoutConfig{}), pool
}

func rows(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// An attempt whose instance died (begun, never settled) holds its place for
// the lease only: it neither locks the entry nor blocks it for good.
func TestLockoutAttemptOfADeadInstanceLapses(t *testing.T) {
	t.Parallel()
	l, _ := newLockout(t)
	ctx, event, now := context.Background(), uuid.New(), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for range 5 {
		if _, retryAt, err := l.Begin(ctx, event, "ABCD-2345", now); err != nil || !retryAt.IsZero() {
			t.Fatalf("begin: retryAt %v, %v; want admitted", retryAt, err)
		}
	}
	if _, retryAt, err := l.Begin(ctx, event, "ABCD-2345", now); err != nil || !retryAt.Equal(now.Add(time.Second)) {
		t.Fatalf("sixth while five run: retryAt %v, %v; want now+1s", retryAt, err)
	}
	if _, retryAt, err := l.Begin(ctx, event, "ABCD-2345", now.Add(time.Minute+time.Second)); err != nil || !retryAt.IsZero() {
		t.Fatalf("after the lease: retryAt %v, %v; want admitted", retryAt, err)
	}
}

// Sweep deletes attempts older than the window and entries not locked, and
// keeps a lock that has not ended.
func TestLockoutSweep(t *testing.T) {
	t.Parallel()
	l, pool := newLockout(t)
	ctx, now := context.Background(), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	old, locked := uuid.New(), uuid.New()
	for _, event := range []uuid.UUID{old, locked} {
		n := 2
		if event == locked {
			n = 5
		}
		for range n {
			a, _, err := l.Begin(ctx, event, "ABCD-2345", now)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Fail(ctx, a, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Sweep(ctx, now.Add(time.Hour-time.Second)); err != nil {
		t.Fatal(err)
	}
	if a, e := rows(t, pool, "entry_attempts"), rows(t, pool, "entry_lockouts"); a != 2 || e != 1 {
		t.Fatalf("within the hour: %d attempts, %d entries; want 2 and the locked one", a, e)
	}
	if err := l.Sweep(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if a, e := rows(t, pool, "entry_attempts"), rows(t, pool, "entry_lockouts"); a != 0 || e != 0 {
		t.Fatalf("after the hour: %d attempts, %d entries; want none", a, e)
	}
}
