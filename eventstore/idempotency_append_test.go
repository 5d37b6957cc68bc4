package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// An Idempotency-Key sent with an append is claimed and completed in the
// append's own transaction, with the answer of its outcome; a key already
// held leaves the append unmade and the holder's answer in place.
func TestIdempotencyKeyIsClaimedAndCompletedInTheAppend(t *testing.T) {
	t.Parallel()
	keys, pool := newIdempotencyKeys(t)
	store, ctx := eventstore.New(pool), context.Background()
	for _, req := range []eventstore.AppendRequest{
		{Stream: "participant-dup", Events: []eventstore.EventData{anEvent(0)}},
		{Stream: "draw-closed", Events: []eventstore.EventData{anEvent(0)}},
		{Stream: "participant-holder", Events: []eventstore.EventData{anEvent(0)}, Keys: []string{"entry:held"}},
	} {
		if _, err := store.AppendWith(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	const scope = "POST /api/v1/participations"
	write := func(key string) *eventstore.IdempotentWrite {
		w := keys.Write(scope, key, keys.Fingerprint("/p", []byte(key)))
		w.Won = eventstore.IdempotentAnswer{Status: 201, Body: []byte(`{"won":"` + key + `"}`), Subject: uuid.New()}
		w.Lost = eventstore.IdempotentAnswer{Status: 409, Body: []byte(`{"code":"ALREADY_PARTICIPATED"}`)}
		w.Closed = eventstore.IdempotentAnswer{Status: 409, Body: []byte(`{"code":"EVENT_NOT_OPEN"}`)}
		return w
	}
	one := []eventstore.EventData{anEvent(1)}
	reqs := []eventstore.AppendRequest{
		{Stream: "participant-a", Events: one, Idempotency: write("k-won")},
		{Stream: "participant-dup", Events: one, Idempotency: write("k-lost")},
		{Stream: "participant-c", Events: one, ClosedBy: "draw-closed", Idempotency: write("k-closed")},
		{Stream: "participant-d", Events: one, Keys: []string{"entry:held"}, Idempotency: write("k-retried")},
		{Stream: "participant-e", Events: one, Idempotency: write("k-won")},
	}
	want := []error{nil, eventstore.ErrWrongExpectedVersion, eventstore.ErrClosed, eventstore.ErrDuplicateKey, eventstore.ErrIdempotencyKeyTaken}
	_, errs, err := store.AppendBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		if !errors.Is(errs[i], want[i]) {
			t.Errorf("%s: err = %v, want %v", reqs[i].Stream, errs[i], want[i])
		}
	}
	tests := []struct {
		key       string
		wantFound bool
		want      eventstore.IdempotentAnswer
	}{
		{"k-won", true, reqs[0].Idempotency.Won},
		{"k-lost", true, reqs[1].Idempotency.Lost},
		{"k-closed", true, reqs[2].Idempotency.Closed},
		{"k-retried", false, eventstore.IdempotentAnswer{}}, // a new entry number is drawn and the key claimed again
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, found, err := keys.Lookup(ctx, scope, tt.key)
			if err != nil || found != tt.wantFound {
				t.Fatalf("Lookup = %v, %v, want found %v", found, err, tt.wantFound)
			}
			if !found {
				return
			}
			if got.Answer == nil || got.Answer.Status != tt.want.Status || !bytes.Equal(got.Answer.Body, tt.want.Body) ||
				!bytes.Equal(got.Fingerprint, keys.Fingerprint("/p", []byte(tt.key))) {
				t.Fatalf("answer %+v, want %d %s", got.Answer, tt.want.Status, tt.want.Body)
			}
		})
	}
	// The winner's answer committed with its event, in one transaction,
	// linked to its participant.
	var sameTx bool
	var subject uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT k.xmin = e.tx_id::xid, k.subject FROM idempotency_keys k, events e
		WHERE k.key = 'k-won' AND e.stream_id = 'participant-a'`).Scan(&sameTx, &subject); err != nil {
		t.Fatal(err)
	}
	if !sameTx || subject != reqs[0].Idempotency.Won.Subject {
		t.Errorf("the answer was written in the event's transaction: %v, subject %s", sameTx, subject)
	}
	for _, stream := range []string{"participant-c", "participant-d", "participant-e"} {
		if v, _ := store.StreamVersion(ctx, stream); v != 0 {
			t.Errorf("a loser left stream %s at version %d", stream, v)
		}
	}
	// Later, the held key refuses its append and keeps the first answer.
	_, err = store.AppendWith(ctx, eventstore.AppendRequest{Stream: "participant-f", Events: one, Idempotency: write("k-won")})
	if !errors.Is(err, eventstore.ErrIdempotencyKeyTaken) {
		t.Fatalf("append with a held key: %v, want ErrIdempotencyKeyTaken", err)
	}
	if got, _, _ := keys.Lookup(ctx, scope, "k-won"); got.Answer == nil || !bytes.Equal(got.Answer.Body, reqs[0].Idempotency.Won.Body) {
		t.Errorf("the held key's answer changed: %+v", got.Answer)
	}
}

// A retry of one registration that lands in its first request's batch (the
// Batcher groups concurrent requests) shares its stream as well as its key:
// it waits for the first's answer (ErrIdempotencyKeyTaken), and does not
// lose the stream (ErrWrongExpectedVersion, a 409 ALREADY_PARTICIPATED
// instead of the replayed 201). Another request for the stream, without
// the key, still loses it.
func TestARetryInItsFirstsBatchGetsTheFirstsAnswer(t *testing.T) {
	t.Parallel()
	keys, pool := newIdempotencyKeys(t)
	store, ctx := eventstore.New(pool), context.Background()
	const scope, key = "POST /api/v1/participations", "double-tap"
	write := func(body string) *eventstore.IdempotentWrite {
		w := keys.Write(scope, key, keys.Fingerprint("/p", []byte("same body")))
		w.Won = eventstore.IdempotentAnswer{Status: 201, Body: []byte(body), Subject: uuid.New()}
		w.Lost = eventstore.IdempotentAnswer{Status: 409, Body: []byte(`{"code":"ALREADY_PARTICIPATED"}`)}
		return w
	}
	one := []eventstore.EventData{anEvent(1)}
	reqs := []eventstore.AppendRequest{
		{Stream: "participant-same", Events: one, Idempotency: write(`{"entryNumber":"first"}`)},
		{Stream: "participant-same", Events: one, Idempotency: write(`{"entryNumber":"retry"}`)},
		{Stream: "participant-same", Events: one},
	}
	_, errs, err := store.AppendBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, eventstore.ErrIdempotencyKeyTaken, eventstore.ErrWrongExpectedVersion}
	for i := range reqs {
		if !errors.Is(errs[i], want[i]) {
			t.Errorf("request %d: err = %v, want %v", i, errs[i], want[i])
		}
	}
	got, found, err := keys.Lookup(ctx, scope, key)
	if err != nil || !found || got.Answer == nil {
		t.Fatalf("Lookup = %+v, %v, %v, want the first's answer", got, found, err)
	}
	if got.Answer.Status != 201 || string(got.Answer.Body) != `{"entryNumber":"first"}` {
		t.Errorf("answer %d %s, want the first's 201", got.Answer.Status, got.Answer.Body)
	}
}
