package eventstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Lockout counts wrong answers per (campaign, entry number) in PostgreSQL,
// so every instance sees the same count, and locks an entry that had too
// many. An attempt takes one of the MaxFailures places before it is checked
// and keeps it if it fails, so concurrent attempts never exceed the limit.
// Times come from the caller, so that tests move a clock. It is safe for
// concurrent use.
type Lockout struct {
	pool      *pgxpool.Pool
	cfg       LockoutConfig
	mu        sync.Mutex
	lastSweep time.Time
}

// LockoutConfig tunes a Lockout; zero values take the defaults.
type LockoutConfig struct {
	MaxFailures int           // wrong answers within Window that lock (default 5)
	Window      time.Duration // how long a wrong answer counts (default 1h)
	LockFor     time.Duration // how long the lock lasts (default 1h)
	// Lease bounds how long a running attempt holds its place: one whose
	// instance died neither fails nor succeeds (default 1m).
	Lease time.Duration
}

func (c *LockoutConfig) setDefaults() {
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.Window <= 0 {
		c.Window = time.Hour
	}
	if c.LockFor <= 0 {
		c.LockFor = time.Hour
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
}

// Lockout returns the lockout kept in the store's database.
func (s *Store) Lockout(cfg LockoutConfig) *Lockout {
	cfg.setDefaults()
	return &Lockout{pool: s.pool, cfg: cfg}
}

// LockoutAttempt is an admitted attempt; settle it with Fail or Done.
type LockoutAttempt struct {
	id          int64
	eventID     uuid.UUID
	entryNumber string
}

// Begin admits one attempt on the entry at now, or returns retryAt, when
// the entry may be tried again: the lock's end, or now+1s when its places
// are all held by attempts still running (they may lock it, or not).
func (l *Lockout) Begin(ctx context.Context, eventID uuid.UUID, entryNumber string, now time.Time) (a LockoutAttempt, retryAt time.Time, err error) {
	l.sweepSometimes(now)
	a = LockoutAttempt{eventID: eventID, entryNumber: entryNumber}
	err = pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		lockedUntil, err := l.lockEntry(ctx, tx, eventID, entryNumber)
		if err != nil {
			return err
		}
		if lockedUntil != nil && lockedUntil.After(now) {
			retryAt = *lockedUntil
			return nil
		}
		var held int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM entry_attempts
			WHERE event_id = $1 AND entry_number = $2
			  AND (failed_at > $3 OR (failed_at IS NULL AND started_at > $4))`,
			eventID, entryNumber, now.Add(-l.cfg.Window), now.Add(-l.cfg.Lease)).Scan(&held); err != nil {
			return fmt.Errorf("count attempts: %w", err)
		}
		if held >= l.cfg.MaxFailures {
			retryAt = now.Add(time.Second)
			return nil
		}
		return tx.QueryRow(ctx, `INSERT INTO entry_attempts (event_id, entry_number, started_at)
			VALUES ($1, $2, $3) RETURNING id`, eventID, entryNumber, now).Scan(&a.id)
	})
	if err != nil {
		return LockoutAttempt{}, time.Time{}, fmt.Errorf("lockout: %w", err)
	}
	return a, retryAt, nil
}

// Fail records the attempt as a wrong answer at now; the one that reaches
// MaxFailures within Window locks the entry for LockFor and spends them.
func (l *Lockout) Fail(ctx context.Context, a LockoutAttempt, now time.Time) error {
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := l.lockEntry(ctx, tx, a.eventID, a.entryNumber); err != nil {
			return err
		}
		// The row may have been swept under a long attempt: the failure counts all the same.
		if _, err := tx.Exec(ctx, `WITH updated AS (
				UPDATE entry_attempts SET failed_at = $4 WHERE id = $1 RETURNING id)
			INSERT INTO entry_attempts (event_id, entry_number, started_at, failed_at)
			SELECT $2, $3, $4, $4 WHERE NOT EXISTS (SELECT 1 FROM updated)`,
			a.id, a.eventID, a.entryNumber, now); err != nil {
			return fmt.Errorf("record failure: %w", err)
		}
		var failures int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM entry_attempts
			WHERE event_id = $1 AND entry_number = $2 AND failed_at > $3`,
			a.eventID, a.entryNumber, now.Add(-l.cfg.Window)).Scan(&failures); err != nil {
			return fmt.Errorf("count failures: %w", err)
		}
		if failures < l.cfg.MaxFailures {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE entry_lockouts SET locked_until = $3
			WHERE event_id = $1 AND entry_number = $2`, a.eventID, a.entryNumber, now.Add(l.cfg.LockFor)); err != nil {
			return fmt.Errorf("lock entry: %w", err)
		}
		_, err := tx.Exec(ctx, `DELETE FROM entry_attempts
			WHERE event_id = $1 AND entry_number = $2 AND failed_at IS NOT NULL`, a.eventID, a.entryNumber)
		return err
	})
	if err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	return nil
}

// Done gives the attempt's place back: a right answer, or a check that
// could not tell. It resets nothing: earlier wrong answers still count.
func (l *Lockout) Done(ctx context.Context, a LockoutAttempt) error {
	if _, err := l.pool.Exec(ctx, `DELETE FROM entry_attempts WHERE id = $1 AND failed_at IS NULL`, a.id); err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	return nil
}

// lockEntry takes the entry's row, making it if need be: attempts on one
// entry queue here, so counting and admitting are one step.
func (l *Lockout) lockEntry(ctx context.Context, tx pgx.Tx, eventID uuid.UUID, entryNumber string) (*time.Time, error) {
	var lockedUntil *time.Time
	err := tx.QueryRow(ctx, `INSERT INTO entry_lockouts AS l (event_id, entry_number) VALUES ($1, $2)
		ON CONFLICT (event_id, entry_number) DO UPDATE SET locked_until = l.locked_until
		RETURNING locked_until`, eventID, entryNumber).Scan(&lockedUntil)
	if err != nil {
		return nil, fmt.Errorf("lock entry row: %w", err)
	}
	return lockedUntil, nil
}

// Sweep deletes what no longer counts at now: attempts older than Window
// (and Lease) and entries neither locked nor recently tried.
func (l *Lockout) Sweep(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-max(l.cfg.Window, l.cfg.Lease))
	if _, err := l.pool.Exec(ctx, `DELETE FROM entry_attempts WHERE coalesce(failed_at, started_at) <= $1`, cutoff); err != nil {
		return fmt.Errorf("sweep attempts: %w", err)
	}
	// An entry deleted here while an attempt is on it is made again by the
	// next one; its attempts do not depend on the row.
	if _, err := l.pool.Exec(ctx, `DELETE FROM entry_lockouts WHERE locked_until IS NULL OR locked_until <= $1`, now); err != nil {
		return fmt.Errorf("sweep entries: %w", err)
	}
	return nil
}

// lockoutSweepEvery bounds how often an instance sweeps the lockout.
const lockoutSweepEvery = 10 * time.Minute

// sweepSometimes runs Sweep in the background at most every
// lockoutSweepEvery (of the wall clock) per instance.
func (l *Lockout) sweepSometimes(now time.Time) {
	l.mu.Lock()
	due := time.Since(l.lastSweep) >= lockoutSweepEvery
	if due {
		l.lastSweep = time.Now()
	}
	l.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = l.Sweep(ctx, now)
	}()
}
