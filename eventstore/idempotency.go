package eventstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// IdempotencyKeys remembers the first answer to each request sent with an
// Idempotency-Key, in PostgreSQL, so that a retry reaching any instance gets
// that answer again. It is safe for concurrent use.
type IdempotencyKeys struct {
	pool *pgxpool.Pool
	cfg  IdempotencyConfig
}

// IdempotentAnswer is a stored answer: the status and body sent the first
// time. Subject, when set, is the participant the answer is about (a
// registration's): that participant's erasure deletes the row.
type IdempotentAnswer struct {
	Status  int
	Body    []byte
	Subject uuid.UUID
}

// IdempotencyClaim is what Claim found. Claimed: this request runs, and its
// caller must Complete or Release the key. Otherwise Fingerprint is the
// first request's, and Answer its answer, nil while it still runs.
type IdempotencyClaim struct {
	Claimed     bool
	Fingerprint []byte
	Answer      *IdempotentAnswer
}

// ErrIdempotencyKeyTaken is returned when an append's Idempotency-Key is
// held by another request, finished or still running: the append was not
// made; that request's answer is the one to give (IdempotencyKeys.Lookup).
var ErrIdempotencyKeyTaken = errors.New("eventstore: idempotency key taken")

// IdempotentWrite is an Idempotency-Key claimed with an append
// (AppendRequest.Idempotency), and the answers to keep for each outcome:
// Won when the append commits (its Subject links the row to the
// participant, whose erasure deletes it), Lost when its stream is taken
// (ErrWrongExpectedVersion), Closed when its closing stream exists
// (ErrClosed). An answer with Status 0, or an append that lost a key
// (ErrDuplicateKey, which its caller retries), keeps nothing.
type IdempotentWrite struct {
	Scope, Key  string
	Fingerprint []byte
	Won         IdempotentAnswer
	Lost        IdempotentAnswer
	Closed      IdempotentAnswer
	// TTL and Lease as in IdempotencyConfig (zero: the defaults).
	TTL, Lease time.Duration
}

func (w *IdempotentWrite) setDefaults() {
	c := IdempotencyConfig{TTL: w.TTL, Lease: w.Lease}
	c.setDefaults()
	w.TTL, w.Lease = c.TTL, c.Lease
}

// heldInBatch answers ErrIdempotencyKeyTaken to each request of a batch
// whose Idempotency-Key an earlier request of the batch asks: it waits for
// that request's answer, as it would a moment later. This comes before any
// other check: a retry of one registration shares its first's stream too,
// and must get that request's answer, not lose the stream
// (ErrWrongExpectedVersion, a 409 ALREADY_PARTICIPATED).
func heldInBatch(reqs []AppendRequest, errs []error) {
	asked := map[[2]string]bool{}
	for i, r := range reqs {
		w := r.Idempotency
		if errs[i] != nil || w == nil {
			continue
		}
		if id := [2]string{w.Scope, w.Key}; asked[id] {
			errs[i] = ErrIdempotencyKeyTaken
		} else {
			asked[id] = true
		}
	}
}

// Write is an IdempotentWrite of (scope, key) for a request with this
// fingerprint, with the keys' TTL and lease; the caller sets the answers.
func (k *IdempotencyKeys) Write(scope, key string, fingerprint []byte) *IdempotentWrite {
	return &IdempotentWrite{Scope: scope, Key: key, Fingerprint: fingerprint, TTL: k.cfg.TTL, Lease: k.cfg.Lease}
}

// Lookup returns the request that holds (scope, key): its fingerprint and,
// once it answered, its answer. found is false when no request holds it (or
// its row expired, or outlived its lease without an answer, or predates
// HMAC fingerprints): a request may claim it.
func (k *IdempotencyKeys) Lookup(ctx context.Context, scope, key string) (claim IdempotencyClaim, found bool, err error) {
	var (
		status *int32
		body   []byte
	)
	err = k.pool.QueryRow(ctx, `SELECT fingerprint, status, body FROM idempotency_keys
		WHERE scope = $1 AND key = $2 AND hmac AND created_at >= now() - make_interval(secs => $3)
		  AND (status IS NOT NULL OR lease_until >= now())`,
		scope, key, k.cfg.TTL.Seconds()).Scan(&claim.Fingerprint, &status, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return IdempotencyClaim{}, false, nil
	}
	if err != nil {
		return IdempotencyClaim{}, false, fmt.Errorf("look up idempotency key: %w", err)
	}
	if status != nil {
		claim.Answer = &IdempotentAnswer{Status: int(*status), Body: body}
	}
	return claim, true, nil
}

// IdempotencyConfig tunes IdempotencyKeys; zero values take the defaults.
type IdempotencyConfig struct {
	// FingerprintKey keys the HMAC of request fingerprints (required, from
	// privacy.Keys.IdempotencyKey): a body holds a name and a phone, which
	// a plain hash in a dump would give away to a brute force.
	FingerprintKey []byte
	TTL            time.Duration // how long an answer is kept (default 24h)
	Lease          time.Duration // after this a running first request counts as dead (default 2m)
	// SweepBatch bounds the rows one statement of Sweep deletes (default 1000).
	SweepBatch int
	// Clock is what Sweep measures expiry against (default time.Now).
	Clock func() time.Time
}

func (c *IdempotencyConfig) setDefaults() {
	if c.TTL <= 0 {
		c.TTL = 24 * time.Hour
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.SweepBatch <= 0 {
		c.SweepBatch = 1000
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Validate reports what is missing.
func (c IdempotencyConfig) Validate() error {
	if len(c.FingerprintKey) < 32 {
		return errors.New("idempotency keys: a fingerprint key of at least 32 bytes is required")
	}
	return nil
}

// NewIdempotencyKeys returns the keys kept in pool's database (Migrate first).
func NewIdempotencyKeys(pool *pgxpool.Pool, cfg IdempotencyConfig) (*IdempotencyKeys, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.FingerprintKey = append([]byte(nil), cfg.FingerprintKey...)
	return &IdempotencyKeys{pool: pool, cfg: cfg}, nil
}

// Fingerprint is what identifies a request's content: HMAC-SHA256 of the
// path and the body under the fingerprint key.
func (k *IdempotencyKeys) Fingerprint(path string, body []byte) []byte {
	mac := hmac.New(sha256.New, k.cfg.FingerprintKey)
	mac.Write([]byte(path))
	mac.Write([]byte{0}) // a path holds no NUL, so path‖0‖body is unambiguous
	mac.Write(body)
	return mac.Sum(nil)
}

// Claim reserves (scope, key) for a request with this fingerprint, unless a
// request holds it: then it reports that request's fingerprint and answer.
// An expired key, one whose first request outlived its lease without an
// answer, or one written before fingerprints were HMACs (hmac false, whose
// fingerprint could never match) is claimed afresh. Exactly one of
// concurrent claimers wins.
func (k *IdempotencyKeys) Claim(ctx context.Context, scope, key string, fingerprint []byte) (IdempotencyClaim, error) {
	for range 3 { // a key released between the two statements is claimed on the next turn
		var claimed bool
		err := k.pool.QueryRow(ctx, `
			INSERT INTO idempotency_keys AS k (scope, key, fingerprint, lease_until, hmac)
			VALUES ($1, $2, $3, now() + make_interval(secs => $4), true)
			ON CONFLICT (scope, key) DO UPDATE
			   SET fingerprint = EXCLUDED.fingerprint, status = NULL, body = NULL, subject = NULL,
			       created_at = now(), lease_until = EXCLUDED.lease_until, hmac = true
			 WHERE k.created_at < now() - make_interval(secs => $5)
			    OR (k.status IS NULL AND k.lease_until < now())
			    OR NOT k.hmac
			RETURNING true`,
			scope, key, fingerprint, k.cfg.Lease.Seconds(), k.cfg.TTL.Seconds()).Scan(&claimed)
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

// Complete stores the answer of the request that claimed the key. An answer
// about a participant is kept only while the participant's data key exists:
// one erased in the meantime gets its row deleted instead, so no answer
// outlives its participant's erasure.
func (k *IdempotencyKeys) Complete(ctx context.Context, scope, key string, answer IdempotentAnswer) error {
	const complete = `UPDATE idempotency_keys SET status = $3, body = $4, subject = $5
		WHERE scope = $1 AND key = $2 AND status IS NULL`
	if answer.Subject == uuid.Nil {
		if _, err := k.pool.Exec(ctx, complete, scope, key, answer.Status, answer.Body, nil); err != nil {
			return fmt.Errorf("complete idempotency key: %w", err)
		}
		return nil
	}
	err := pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		// The share lock orders this against the erasure, which deletes the
		// data key before the idempotency rows: either the erasure sees the
		// subject stored here, or this sees the key gone.
		var alive bool
		err := tx.QueryRow(ctx, `SELECT true FROM pii_keys WHERE participant_id = $1 FOR SHARE`, pgtype.UUID{Bytes: answer.Subject, Valid: true}).Scan(&alive)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL`, scope, key)
			return err
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, complete, scope, key, answer.Status, answer.Body, pgtype.UUID{Bytes: answer.Subject, Valid: true})
		return err
	})
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

// Sweep deletes the rows expired at the clock's now (rows of instances not
// yet upgraded, without hmac, expire the same way), SweepBatch rows a
// statement (through the created_at index) so that no
// statement holds many locks or runs long; rows another sweeper holds are
// skipped, so instances may sweep at once. It returns the rows deleted.
func (k *IdempotencyKeys) Sweep(ctx context.Context) (int, error) {
	cutoff := k.cfg.Clock().Add(-k.cfg.TTL)
	total := 0
	for {
		tag, err := k.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE (scope, key) IN (
			SELECT scope, key FROM idempotency_keys WHERE created_at < $1
			LIMIT $2 FOR UPDATE SKIP LOCKED)`, cutoff, k.cfg.SweepBatch)
		if err != nil {
			return total, fmt.Errorf("sweep idempotency keys: %w", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < k.cfg.SweepBatch {
			return total, nil
		}
	}
}
