package eventstore_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
)

func newIdempotencyKeys(t *testing.T) (*eventstore.IdempotencyKeys, *pgxpool.Pool) {
	t.Helper()
	pool := testenv.Pool(t, 24)
	if err := eventstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return mustIdempotencyKeys(t, pool, eventstore.IdempotencyConfig{}), pool
}

// fingerprintKey stands for the key privacy derives from PII_KEY.
var fingerprintKey = []byte("idempotency-fingerprint-key-0123456789")

func mustIdempotencyKeys(t *testing.T, pool *pgxpool.Pool, cfg eventstore.IdempotencyConfig) *eventstore.IdempotencyKeys {
	t.Helper()
	if cfg.FingerprintKey == nil {
		cfg.FingerprintKey = fingerprintKey
	}
	keys, err := eventstore.NewIdempotencyKeys(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Two instances are two IdempotencyKeys over one database: of concurrent
// claimers exactly one runs, and the others see its fingerprint.
func TestIdempotencyKeyIsClaimedOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	first, pool := newIdempotencyKeys(t)
	second := mustIdempotencyKeys(t, pool, eventstore.IdempotencyConfig{})
	ctx := context.Background()
	fp := []byte("fingerprint")

	var claimed atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		keys := first
		if i%2 == 1 {
			keys = second
		}
		wg.Go(func() {
			c, err := keys.Claim(ctx, "scope", "k1", fp)
			switch {
			case err != nil:
				t.Error(err)
			case c.Claimed:
				claimed.Add(1)
			case !bytes.Equal(c.Fingerprint, fp) || c.Answer != nil:
				t.Errorf("loser saw %+v, want the fingerprint and no answer yet", c)
			}
		})
	}
	wg.Wait()
	if n := claimed.Load(); n != 1 {
		t.Fatalf("%d claimers won, want 1", n)
	}
}

func TestIdempotencyKeyLifecycle(t *testing.T) {
	t.Parallel()
	keys, pool := newIdempotencyKeys(t)
	ctx := context.Background()
	claim := func(key string, fp string) eventstore.IdempotencyClaim {
		t.Helper()
		c, err := keys.Claim(ctx, "scope", key, []byte(fp))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name        string
		setup       func(key string)
		wantClaimed bool
		wantStatus  int // of the answer found, when not claimed
	}{
		{"completed_key_replays_its_answer", func(key string) {
			claim(key, "a")
			if err := keys.Complete(ctx, "scope", key, eventstore.IdempotentAnswer{Status: 201, Body: []byte(`{"x":1}`)}); err != nil {
				t.Fatal(err)
			}
		}, false, 201},
		{"released_key_is_claimed_again", func(key string) {
			claim(key, "a")
			if err := keys.Release(ctx, "scope", key); err != nil {
				t.Fatal(err)
			}
		}, true, 0},
		{"answer_older_than_a_day_is_forgotten", func(key string) {
			claim(key, "a")
			_ = keys.Complete(ctx, "scope", key, eventstore.IdempotentAnswer{Status: 201, Body: []byte(`{}`)})
			mustExec(t, pool, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, key)
		}, true, 0},
		{"answer_of_23_hours_is_kept", func(key string) {
			claim(key, "a")
			_ = keys.Complete(ctx, "scope", key, eventstore.IdempotentAnswer{Status: 409, Body: []byte(`{}`)})
			mustExec(t, pool, `UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = $1`, key)
		}, false, 409},
		{"first_request_past_its_lease_is_taken_over", func(key string) {
			claim(key, "a")
			mustExec(t, pool, `UPDATE idempotency_keys SET lease_until = now() - interval '1 second' WHERE key = $1`, key)
		}, true, 0},
		{"running_first_request_keeps_the_key", func(key string) { claim(key, "a") }, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(tt.name)
			c := claim(tt.name, "a")
			if c.Claimed != tt.wantClaimed {
				t.Fatalf("claimed = %v, want %v", c.Claimed, tt.wantClaimed)
			}
			if tt.wantClaimed {
				return
			}
			switch {
			case tt.wantStatus == 0 && c.Answer != nil:
				t.Fatalf("answer = %+v, want none yet", c.Answer)
			case tt.wantStatus != 0 && (c.Answer == nil || c.Answer.Status != tt.wantStatus):
				t.Fatalf("answer = %+v, want status %d", c.Answer, tt.wantStatus)
			}
		})
	}
	// Scopes are apart: the same key in another scope is another key.
	if c, err := keys.Claim(ctx, "other-scope", "completed_key_replays_its_answer", []byte("a")); err != nil || !c.Claimed {
		t.Fatalf("other scope: %+v, %v; want claimed", c, err)
	}
}

func mustExec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}
