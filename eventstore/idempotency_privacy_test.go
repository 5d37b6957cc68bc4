package eventstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// A fingerprint is an HMAC under the key: without the key, no dictionary of
// names and phones finds the body it came from.
func TestIdempotencyFingerprintIsKeyed(t *testing.T) {
	t.Parallel()
	keys, pool := newIdempotencyKeys(t)
	other := mustIdempotencyKeys(t, pool, eventstore.IdempotencyConfig{FingerprintKey: []byte("another-fingerprint-key-0123456789ab")})
	path, body := "/api/v1/participations", []byte(`{"name":"김철수","phone":"010-1234-5678"}`)
	fp := keys.Fingerprint(path, body)
	plain := sha256.Sum256(append([]byte(path+"\x00"), body...))
	bodyOnly := sha256.Sum256(body)
	tests := []struct {
		name string
		got  []byte
		same bool
	}{
		{"same_request_same_fingerprint", keys.Fingerprint(path, body), true},
		{"not_the_plain_sha256_of_path_and_body", plain[:], false},
		{"not_the_plain_sha256_of_the_body", bodyOnly[:], false},
		{"another_key_another_fingerprint", other.Fingerprint(path, body), false},
		{"another_body_another_fingerprint", keys.Fingerprint(path, append(body, ' ')), false},
		{"path_and_body_do_not_run_together", keys.Fingerprint(path+"{", body[1:]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Equal(fp, tt.got) != tt.same {
				t.Fatalf("equal = %v, want %v", !tt.same, tt.same)
			}
		})
	}
}

// A participant's erasure deletes the answers linked to it, on the single
// and the batch append alike, and an answer completed after the erasure is
// not kept: a retry with its key then runs as new.
func TestErasureDeletesTheParticipantsAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys, pool := newIdempotencyKeys(t)
	store := eventstore.New(pool)
	campaign := uuid.NewString()
	register := func(t *testing.T, id uuid.UUID) {
		t.Helper()
		_, err := store.AppendWith(ctx, eventstore.AppendRequest{Stream: "participant-" + id.String(), Expected: eventstore.NoStream,
			Events:     []eventstore.EventData{registration(t, campaign, id, id.String()[:8])},
			SubjectKey: &eventstore.SubjectKey{Subject: id, Wrapped: []byte("wrapped")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	answer := func(t *testing.T, key string, subject uuid.UUID) {
		t.Helper()
		if c, err := keys.Claim(ctx, "scope", key, []byte("fp")); err != nil || !c.Claimed {
			t.Fatalf("claim %s: %+v %v", key, c, err)
		}
		if err := keys.Complete(ctx, "scope", key, eventstore.IdempotentAnswer{Status: 201, Body: []byte(`{}`), Subject: subject}); err != nil {
			t.Fatal(err)
		}
	}
	erase := func(t *testing.T, id uuid.UUID, batch bool) {
		t.Helper()
		req := eventstore.AppendRequest{Stream: "participant-" + id.String(), Expected: eventstore.Exactly(1),
			Events: []eventstore.EventData{typed(t, "ParticipantErased", campaign, id)}, Shred: id}
		if !batch {
			if _, err := store.AppendWith(ctx, req); err != nil {
				t.Fatal(err)
			}
			return
		}
		if _, errs, err := store.AppendBatch(ctx, []eventstore.AppendRequest{req}); err != nil || errs[0] != nil {
			t.Fatal(err, errs)
		}
	}
	rows := func(t *testing.T, key string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE key = $1`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch_%v", batch), func(t *testing.T) {
			erased, kept := uuid.New(), uuid.New()
			register(t, erased)
			register(t, kept)
			mine, theirs, plain := "mine-"+erased.String(), "theirs-"+kept.String(), "plain-"+erased.String()
			answer(t, mine, erased)
			answer(t, theirs, kept)
			answer(t, plain, uuid.Nil)
			erase(t, erased, batch)
			if got := []int{rows(t, mine), rows(t, theirs), rows(t, plain)}; got[0] != 0 || got[1] != 1 || got[2] != 1 {
				t.Fatalf("rows of the erased, the other participant and no participant = %v, want [0 1 1]", got)
			}
		})
	}
	t.Run("answer_completed_after_the_erasure_is_not_kept", func(t *testing.T) {
		id := uuid.New()
		register(t, id)
		if c, err := keys.Claim(ctx, "scope", "late", []byte("fp")); err != nil || !c.Claimed {
			t.Fatalf("claim: %+v %v", c, err)
		}
		erase(t, id, false)
		if err := keys.Complete(ctx, "scope", "late", eventstore.IdempotentAnswer{Status: 201, Body: []byte(`{}`), Subject: id}); err != nil {
			t.Fatal(err)
		}
		if n := rows(t, "late"); n != 0 {
			t.Fatalf("rows = %d, want 0", n)
		}
		if c, err := keys.Claim(ctx, "scope", "late", []byte("fp")); err != nil || !c.Claimed {
			t.Fatalf("retry: %+v %v, want claimed afresh", c, err)
		}
	})
}

// The sweep deletes what expired by its clock, in batches, and nothing else.
func TestSweepDeletesExpiredAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := newIdempotencyKeys(t)
	var now time.Time
	keys := mustIdempotencyKeys(t, pool, eventstore.IdempotencyConfig{SweepBatch: 2, Clock: func() time.Time { return now }})
	for i := range 7 {
		if _, err := keys.Claim(ctx, "scope", fmt.Sprint(i), []byte("fp")); err != nil {
			t.Fatal(err)
		}
		if err := keys.Complete(ctx, "scope", fmt.Sprint(i), eventstore.IdempotentAnswer{Status: 201, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, pool, `UPDATE idempotency_keys SET created_at = created_at - interval '2 hours' WHERE key IN ('0', '1', '2', '3', '4')`)
	start := time.Now()
	tests := []struct {
		name        string
		at          time.Time
		wantDeleted int
		wantLeft    int
	}{
		{"nothing_expired_yet", start, 0, 7},
		{"the_older_five_in_batches_of_two", start.Add(23 * time.Hour), 5, 2},
		{"the_rest_a_day_after", start.Add(25 * time.Hour), 2, 0},
		{"again_nothing", start.Add(26 * time.Hour), 0, 0},
	}
	for _, tt := range tests {
		now = tt.at
		n, err := keys.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var left int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if n != tt.wantDeleted || left != tt.wantLeft {
			t.Errorf("%s: deleted %d, %d left; want %d, %d", tt.name, n, left, tt.wantDeleted, tt.wantLeft)
		}
	}
}

// An answer completed while its participant is erased never outlives the
// erasure, whichever commits first.
func TestAnswerRacingItsErasureIsNotKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys, pool := newIdempotencyKeys(t)
	store := eventstore.New(pool)
	campaign := uuid.NewString()
	const n = 40
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
		if _, err := store.AppendWith(ctx, eventstore.AppendRequest{Stream: "participant-" + ids[i].String(), Expected: eventstore.NoStream,
			Events:     []eventstore.EventData{registration(t, campaign, ids[i], fmt.Sprint(i))},
			SubjectKey: &eventstore.SubjectKey{Subject: ids[i], Wrapped: []byte("wrapped")}}); err != nil {
			t.Fatal(err)
		}
		if c, err := keys.Claim(ctx, "scope", ids[i].String(), []byte("fp")); err != nil || !c.Claimed {
			t.Fatalf("claim: %+v %v", c, err)
		}
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			err := keys.Complete(ctx, "scope", id.String(), eventstore.IdempotentAnswer{Status: 201, Body: []byte(`{}`), Subject: id})
			if err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			_, err := store.AppendWith(ctx, eventstore.AppendRequest{Stream: "participant-" + id.String(), Expected: eventstore.Exactly(1),
				Events: []eventstore.EventData{typed(t, "ParticipantErased", campaign, id)}, Shred: id})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE status IS NOT NULL`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d answers of erased participants kept, want 0", left)
	}
}
