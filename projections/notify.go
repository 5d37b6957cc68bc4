package projections

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/internal/backoff"
)

// notifier is one LISTEN connection fanned out to the subscribers of
// analytics changes. It starts with the first subscription and runs until
// close, reconnecting after a failure.
type notifier struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu      sync.Mutex
	subs    map[uuid.UUID]map[*subscription]struct{}
	started bool
	closed  bool
	stop    context.CancelFunc
	done    chan struct{}
}

type subscription struct {
	ch chan struct{}
}

// signal never blocks: a pending signal already says "changed".
func (s *subscription) signal() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

func newNotifier(pool *pgxpool.Pool, logger *slog.Logger) *notifier {
	return &notifier{pool: pool, logger: logger, subs: map[uuid.UUID]map[*subscription]struct{}{}}
}

func (n *notifier) subscribe(ctx context.Context, eventID uuid.UUID) (<-chan struct{}, func()) {
	s := &subscription{ch: make(chan struct{}, 1)}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return s.ch, func() {}
	}
	if n.subs[eventID] == nil {
		n.subs[eventID] = map[*subscription]struct{}{}
	}
	n.subs[eventID][s] = struct{}{}
	if !n.started {
		n.started = true
		runCtx, stop := context.WithCancel(context.Background())
		n.stop, n.done = stop, make(chan struct{})
		go n.run(runCtx)
	}
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			delete(n.subs[eventID], s)
			if len(n.subs[eventID]) == 0 {
				delete(n.subs, eventID)
			}
		})
	}
	stopWatching := context.AfterFunc(ctx, cancel)
	return s.ch, func() { stopWatching(); cancel() }
}

func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	stop, done := n.stop, n.done
	n.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

func (n *notifier) run(ctx context.Context) {
	defer close(n.done)
	pause := backoff.New(100*time.Millisecond, 30*time.Second)
	for ctx.Err() == nil {
		err := n.listen(ctx, pause.Reset)
		if ctx.Err() != nil {
			return
		}
		wait := pause.Next()
		n.logger.WarnContext(ctx, "projections: analytics listener failed; reconnecting", "error", err, "after", wait)
		if !backoff.Sleep(ctx, wait) {
			return
		}
	}
}

// listen holds a connection of its own (a pooled one would be returned
// with LISTEN still active) until ctx ends or the connection fails.
func (n *notifier) listen(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, n.pool.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+AnalyticsChannel); err != nil {
		return err
	}
	connected()
	// Changes may have happened while no one listened.
	n.signalAll()
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		id, err := uuid.Parse(msg.Payload)
		if err != nil {
			continue
		}
		n.signal(id)
	}
}

func (n *notifier) signal(eventID uuid.UUID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for s := range n.subs[eventID] {
		s.signal()
	}
}

func (n *notifier) signalAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, subs := range n.subs {
		for s := range subs {
			s.signal()
		}
	}
}
