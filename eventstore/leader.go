package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrLeadershipLost is a Leadership whose session ended: the lock went with
// it, and another instance may lead already.
var ErrLeadershipLost = errors.New("eventstore: leadership session lost")

// Leadership is a session-held advisory lock: one holder per name and
// database at a time. It lives as long as its session, so a holder that
// crashes or is cut off frees it for another instance without a lease to
// wait out. The session's connection is kept out of the pool until Release.
type Leadership struct {
	conn *pgxpool.Conn
	key  int64
}

// TryLead takes name's leadership if no session holds it; ok is false when
// another one does.
func (s *Store) TryLead(ctx context.Context, name string) (l *Leadership, ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("leadership: acquire: %w", err)
	}
	// The id must never change for a name, or two versions would both lead.
	key := lockIDFor(name)
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("leadership: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return &Leadership{conn: conn, key: key}, true, nil
}

// Check reports ErrLeadershipLost when the session holding the lock is
// gone (the database restarted, the connection was cut or terminated).
func (l *Leadership) Check(ctx context.Context) error {
	if err := l.conn.Ping(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrLeadershipLost, err)
	}
	return nil
}

// Release gives the leadership up, even when ctx has ended. A session that
// cannot unlock is closed, which frees its locks all the same.
func (l *Leadership) Release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key); err != nil {
		_ = l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
}
