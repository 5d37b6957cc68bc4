package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// IdempotencyKeys remembers the first answer to each request sent with an
// Idempotency-Key, in PostgreSQL, so that a retry reaching any instance gets
// that answer again. It is safe for concurrent use.
type IdempotencyKeys struct {
	pool      *pgxpool.Pool
	ttl       time.Duration
	lease     time.Duration
	mu        sync.Mutex
	lastSweep time.Time
}

// IdempotentAnswer is a stored answer: the status and body sent the first time.
type IdempotentAnswer struct {
	Status int
	Body   []byte
}

// IdempotencyClaim is what Claim found. Claimed: this request runs, and its
// caller must Complete or Release the key. Otherwise Fingerprint is the
// first request's, and Answer its answer, nil while it still runs.
type IdempotencyClaim struct {
	Claimed     bool
	Fingerprint []byte
	Answer      *IdempotentAnswer
}

// IdempotencyConfig tunes IdempotencyKeys; zero values take the defaults.
type IdempotencyConfig struct {
	TTL   time.Duration // how long an answer is kept (default 24h)
	Lease time.Duration // after this a running first request counts as dead (default 2m)
}

// NewIdempotencyKeys returns the keys kept in pool's database (Migrate first).
func NewIdempotencyKeys(pool *pgxpool.Pool, cfg IdempotencyConfig) *IdempotencyKeys {
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	return &IdempotencyKeys{pool: pool, ttl: cfg.TTL, lease: cfg.Lease}
}

// sweepEvery bounds how often an instance deletes expired keys.
const sweepEvery = 10 * time.Minute

// Claim reserves (scope, key) for a request with this fingerprint, unless a
// request holds it: then it reports that request's fingerprint and answer.
// An expired key, or one whose first request outlived its lease without an
// answer, is claimed afresh. Exactly one of concurrent claimers wins.
func (k *IdempotencyKeys) Claim(ctx context.Context, scope, key string, fingerprint []byte) (IdempotencyClaim, error) {
	k.sweepSometimes()
	for range 3 { // a key released between the two statements is claimed on the next turn
		var claimed bool
		err := k.pool.QueryRow(ctx, `
			INSERT INTO idempotency_keys AS k (scope, key, fingerprint, lease_until)
			VALUES ($1, $2, $3, now() + make_interval(secs => $4))
			ON CONFLICT (scope, key) DO UPDATE
			   SET fingerprint = EXCLUDED.fingerprint, status = NULL, body = NULL,
			       created_at = now(), lease_until = EXCLUDED.lease_until
			 WHERE k.created_at < now() - make_interval(secs => $5)
			    OR (k.status IS NULL AND k.lease_until < now())
			RETURNING true`,
			scope, key, fingerprint, k.lease.Seconds(), k.ttl.Seconds()).Scan(&claimed)
		if err == nil {
			return IdempotencyClaim{Claimed: true}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return IdempotencyClaim{}, fmt.Errorf("claim idempotency key: %w", err)
		}
		var (
			found  IdempotencyClaim
			status *int32
			body   []byte
		)
		err = k.pool.QueryRow(ctx, `SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2`,
			scope, key).Scan(&found.Fingerprint, &status, &body)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return IdempotencyClaim{}, fmt.Errorf("read idempotency key: %w", err)
		}
		if status != nil {
			found.Answer = &IdempotentAnswer{Status: int(*status), Body: body}
		}
		return found, nil
	}
	return IdempotencyClaim{}, errors.New("claim idempotency key: released and taken again repeatedly")
}

// Complete stores the answer of the request that claimed the key.
func (k *IdempotencyKeys) Complete(ctx context.Context, scope, key string, answer IdempotentAnswer) error {
	_, err := k.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, body = $4
		WHERE scope = $1 AND key = $2 AND status IS NULL`, scope, key, answer.Status, answer.Body)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release gives up a claim whose request has no answer worth keeping (a
// failure the client should retry), so that its retry runs again.
func (k *IdempotencyKeys) Release(ctx context.Context, scope, key string) error {
	_, err := k.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL`, scope, key)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// sweepSometimes deletes expired keys in the background, at most every
// sweepEvery per instance, so the table stays a day's worth.
func (k *IdempotencyKeys) sweepSometimes() {
	k.mu.Lock()
	due := time.Since(k.lastSweep) >= sweepEvery
	if due {
		k.lastSweep = time.Now()
	}
	k.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = k.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`, k.ttl.Seconds())
	}()
}
