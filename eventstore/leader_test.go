package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shopevents/participation/eventstore"
)

// One leader per name: a second instance is refused while the first holds
// it, another name is free, and a release lets the next one in.
func TestOneLeaderPerName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	other := eventstore.New(eventstore.PoolOf(store)) // a second instance over the same database

	first, ok, err := store.TryLead(ctx, "relay:a")
	if err != nil || !ok {
		t.Fatalf("first TryLead = %v, %v; want the lead", ok, err)
	}
	if _, ok, err := other.TryLead(ctx, "relay:a"); err != nil || ok {
		t.Fatalf("second TryLead while held = %v, %v; want refused", ok, err)
	}
	b, ok, err := other.TryLead(ctx, "relay:b")
	if err != nil || !ok {
		t.Fatalf("TryLead of another name = %v, %v; want the lead", ok, err)
	}
	b.Release(ctx)
	if err := first.Check(ctx); err != nil {
		t.Errorf("Check of a held lead = %v", err)
	}
	first.Release(ctx)
	next, ok, err := other.TryLead(ctx, "relay:a")
	if err != nil || !ok {
		t.Fatalf("TryLead after the release = %v, %v; want the lead", ok, err)
	}
	next.Release(ctx)
}

// A leader whose session is cut (here terminated by the server) learns it
// from Check, and another instance takes the lead without waiting for it.
func TestALostSessionReportsItsLeadershipLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	pool := eventstore.PoolOf(store)

	lead, ok, err := store.TryLead(ctx, "relay:a")
	if err != nil || !ok {
		t.Fatalf("TryLead = %v, %v", ok, err)
	}
	defer lead.Release(ctx)
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	if err := lead.Check(ctx); !errors.Is(err, eventstore.ErrLeadershipLost) {
		t.Fatalf("Check after the session ended = %v, want ErrLeadershipLost", err)
	}
	next, ok, err := store.TryLead(ctx, "relay:a")
	if err != nil || !ok {
		t.Fatalf("TryLead after the holder's session ended = %v, %v; want the lead", ok, err)
	}
	next.Release(ctx)
}
