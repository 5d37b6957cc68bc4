package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// appendChannel is what appends notify while a tail waits (migration 00130).
const appendChannel = "eventstore_appended"

// sqlWaiting is the advisory lock a waiting tail holds, in the two-key
// space (the one-key locks of TryLead and the fences never meet it); the
// trigger of migration 00130 names the same keys.
const (
	sqlArm    = `SELECT pg_try_advisory_lock(8470, 1)`
	sqlDisarm = `SELECT pg_advisory_unlock(8470, 1)`
)

// AppendListener wakes a tail that has caught up when events are appended,
// so it need not poll. It holds a connection of its own. The protocol, in
// a loop: read the tail; when it is empty, Arm; read it again; when it is
// still empty, Wait (which disarms), else Disarm. Appends notify only while
// a listener is armed, so under load, when no tail waits, they pay nothing.
// An AppendListener is not safe for concurrent use.
type AppendListener struct {
	conn  *pgx.Conn
	armed bool
}

// ListenAppends opens the listener's connection.
func (s *Store) ListenAppends(ctx context.Context) (*AppendListener, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("listen for appends: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+appendChannel); err != nil {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("listen for appends: %w", err)
	}
	return &AppendListener{conn: conn}, nil
}

// Arm tells appends that a tail is about to wait. It reports false when
// appends are under way (one holds the lock until it commits): the caller
// then reads the tail again shortly instead of waiting.
func (l *AppendListener) Arm(ctx context.Context) (bool, error) {
	if l.armed {
		return true, nil
	}
	// Notifications of appends the caller has read since are stale: drop
	// them (a done context returns what was received, without I/O).
	done, cancel := context.WithCancel(ctx)
	cancel()
	for n, _ := l.conn.WaitForNotification(done); n != nil; n, _ = l.conn.WaitForNotification(done) {
	}
	if err := l.conn.QueryRow(ctx, sqlArm).Scan(&l.armed); err != nil {
		return false, fmt.Errorf("arm append listener: %w", err)
	}
	return l.armed, nil
}

// Disarm tells appends that no tail waits any more.
func (l *AppendListener) Disarm(ctx context.Context) error {
	if !l.armed {
		return nil
	}
	if _, err := l.conn.Exec(ctx, sqlDisarm); err != nil {
		return fmt.Errorf("disarm append listener: %w", err)
	}
	l.armed = false
	return nil
}

// Wait waits, armed, until an append notifies or timeout passes (the
// caller's fallback poll), then disarms. An error means the connection is
// lost (or ctx ended): close the listener.
func (l *AppendListener) Wait(ctx context.Context, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	_, err := l.conn.WaitForNotification(wctx)
	cancel()
	if err != nil && (ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("wait for appends: %w", err)
	}
	return l.Disarm(ctx)
}

// Close closes the connection, which frees its lock.
func (l *AppendListener) Close(ctx context.Context) error { return l.conn.Close(ctx) }
