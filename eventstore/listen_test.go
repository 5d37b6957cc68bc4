package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/eventstore"
)

// Appends notify a waiting tail, and only while one is armed to wait:
// NOTIFY serializes the commits that send it, so appends while no tail
// waits (under load the relay never does) send none.
func TestAppendsNotifyOnlyWhileATailIsArmed(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	watch, err := pgx.ConnectConfig(ctx, eventstore.PoolOf(store).Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	if _, err := watch.Exec(ctx, `LISTEN eventstore_appended`); err != nil {
		t.Fatal(err)
	}
	l, err := store.ListenAppends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)

	appendOne := func(stream string) {
		t.Helper()
		if _, err := store.Append(ctx, stream, eventstore.NoStream, anEvent(1)); err != nil {
			t.Fatal(err)
		}
	}
	appendOne("before-arming")
	if armed, err := l.Arm(ctx); err != nil || !armed {
		t.Fatalf("Arm = %v, %v; want armed (no append under way)", armed, err)
	}
	appendOne("while-armed")
	if err := l.Disarm(ctx); err != nil {
		t.Fatal(err)
	}
	appendOne("after-disarming")
	// Notifications arrive in commit order: what came before this one is
	// what the appends sent.
	if _, err := eventstore.PoolOf(store).Exec(ctx, `SELECT pg_notify('eventstore_appended', 'end')`); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sent := 0
	for {
		n, err := watch.WaitForNotification(wctx)
		if err != nil {
			t.Fatal(err)
		}
		if n.Payload == "end" {
			break
		}
		sent++
	}
	if sent != 1 {
		t.Errorf("three appends, one while armed, sent %d notifications, want 1", sent)
	}
}

// A tail cannot arm while an append is under way, so the append's commit
// cannot slip between the tail's last read and its wait; once armed, an
// append wakes it.
func TestAnAppendUnderWayKeepsATailFromArmingAndOneAfterWakesIt(t *testing.T) {
	t.Parallel()
	store, ctx := newStore(t), context.Background()
	l, err := store.ListenAppends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)

	held, _ := holdOpen(t, store, "under-way")
	if armed, err := l.Arm(ctx); err != nil || armed {
		t.Fatalf("Arm with an append under way = %v, %v; want not armed", armed, err)
	}
	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if armed, err := l.Arm(ctx); err != nil || !armed {
		t.Fatalf("Arm after the commit = %v, %v; want armed", armed, err)
	}
	go func() {
		if _, err := store.Append(ctx, "wakes", eventstore.NoStream, anEvent(2)); err != nil {
			t.Error(err)
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := l.Wait(wctx, time.Hour); err != nil {
		t.Fatalf("Wait: %v (no notification of the append)", err)
	}
	// Wait disarmed: the lock is free to take again.
	if armed, err := l.Arm(ctx); err != nil || !armed {
		t.Fatalf("Arm after the wake = %v, %v; want armed", armed, err)
	}
}
