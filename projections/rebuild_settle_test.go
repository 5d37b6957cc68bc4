package projections_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
)

// logSink keeps the messages logged, for a test that waits on one.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r.Message)
	return nil
}

func (s *logSink) logged(part string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if strings.Contains(m, part) {
			return true
		}
	}
	return false
}

// openXid begins a transaction on pool's database holding an xid, as an
// append in flight does; it ends with the test.
func openXid(t *testing.T, ctx context.Context, begin func(context.Context) (pgx.Tx, error)) pgx.Tx {
	t.Helper()
	tx, err := begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	return tx
}

// The replay's head is settled once this database's transactions that held
// an xid have ended. A transaction of another database on the same server
// cannot append here: the rebuild does not wait for it (it waited for the
// cluster's oldest xid, so for any long transaction anywhere, polling).
func TestRebuildWaitsOnlyForItsOwnDatabasesTransactions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := e.seedCampaign(t, 30, seedStart, 3)

	other := testenv.Pool(t, 2) // another database on the same server
	openXid(t, ctx, other.Begin)
	report, err := projections.Rebuild(ctx, e.pool, projections.RebuildOptions{Publicize: testPublicize(t, e.pool)})
	if err != nil {
		t.Fatalf("rebuild with a transaction open in another database: %v", err)
	}
	if got := report.ReplayEvents; got != int64(len(c.regs)+10+1) { // registrations, visits, the opening
		t.Fatalf("replayed %d events, want %d", got, len(c.regs)+11)
	}

	// A transaction of this database with an xid may still append below
	// the head: the rebuild waits for it.
	local := openXid(t, ctx, e.pool.Begin)
	sink := &logSink{}
	done := make(chan error, 1)
	go func() {
		_, err := projections.Rebuild(ctx, e.pool, projections.RebuildOptions{Logger: slog.New(sink), Publicize: publicizer(e.pool)})
		done <- err
	}()
	waitFor(t, time.Minute, "the rebuild to wait for the local transaction", func() bool {
		return sink.logged("waiting for transactions in flight")
	})
	select {
	case err := <-done:
		t.Fatalf("the rebuild ended while a local transaction was open: %v", err)
	default:
	}
	if err := local.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("rebuild after the local transaction ended: %v", err)
	}
}

// The replay publicizes with what ReplayPublicize returns (a snapshot of
// the keys, in the command), asked for once; the catch-up and the swap
// keep Publicize.
func TestReplayPublicizesWithReplayPublicize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.seedCampaign(t, 40, seedStart, 0)
	var (
		mu                 sync.Mutex
		asked, replay, all int
	)
	counting := func(n *int) projections.Publicize {
		return func(_ context.Context, recs []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				if r.Type == domain.TypeParticipantRegistered {
					*n++
				}
			}
			return recs, nil
		}
	}
	rebuild(t, e.pool, projections.RebuildOptions{Publicize: counting(&all),
		ReplayPublicize: func(context.Context) (projections.Publicize, error) {
			mu.Lock()
			defer mu.Unlock()
			asked++
			return counting(&replay), nil
		}})
	if asked != 1 || replay != len(c.regs) || all != 0 {
		t.Fatalf("ReplayPublicize asked %d times, its publicize saw %d registrations, Publicize %d; want 1, %d, 0",
			asked, replay, all, len(c.regs))
	}
}
