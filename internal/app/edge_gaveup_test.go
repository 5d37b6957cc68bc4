package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A registration whose HTTP client gave up while it waited for a batch is
// never written (DESIGN: nothing answered is lost, and nothing a client was
// not answered about is stored behind its back). Every batch worker is held
// on a real table lock, the next registration queues behind them, its client
// leaves; once the lock goes, the held ones are stored and the one that left
// is not — its phone registers afresh.
func TestRegistrationWhoseClientGaveUpBeforeItsBatchIsNotWritten(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ctx := t.Context()
	eventID := a.openCampaign(ownerA, openNow())

	lock, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback(context.Background()) }()
	if _, err := lock.Exec(ctx, "LOCK TABLE events IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	// blocked is how many batches wait on the lock (one backend each).
	blocked := func() int {
		var n int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE NOT l.granted AND d.datname = current_database()`).Scan(&n); err != nil {
			t.Fatalf("pg_locks: %v", err)
		}
		return n
	}
	register := func(ctx context.Context, phone string) <-chan error {
		done := make(chan error, 1)
		go func() {
			req, err := a.request(http.MethodPost, participationsPath, "", registrationBody(eventID, "김철수", phone, "KAKAO"))
			if err != nil {
				done <- err
				return
			}
			resp, err := a.client.Do(req.WithContext(ctx))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					err = fmt.Errorf("%s: %d, want 201", phone, resp.StatusCode)
				}
			}
			done <- err
		}()
		return done
	}

	// Hold every worker: one registration at a time, each waiting on the
	// lock in a batch of its own, until one queues instead (all are busy).
	var held []<-chan error
	waitFor := func(n int) {
		t.Helper()
		waitUntil(t, "the registration on the lock or queued", func() error {
			if b, q := blocked(), a.svc.batcher.Queued(); b+q != n {
				return fmt.Errorf("%d batches on the lock, %d queued; want %d in all", b, q, n)
			}
			return nil
		})
	}
	for i := 0; a.svc.batcher.Queued() == 0; i++ {
		held = append(held, register(ctx, fmt.Sprintf("010-8888-%04d", i)))
		waitFor(i + 1)
	}
	gaveUp, leave := context.WithCancel(ctx)
	defer leave()
	left := register(gaveUp, "010-8888-9999")
	waitFor(len(held) + 1)
	leave()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client that left: %v, want its own cancellation", err)
	}
	// The server must have seen it leave before the lock goes: its command
	// returned (the held ones have not).
	waitUntil(t, "the abandoned registration answered by the server", func() error {
		want := `participation_command_duration_seconds_count{command="register_participant"} 1`
		if body := a.scrape(t); !strings.Contains(body, want) {
			return errors.New("no register_participant command has returned yet")
		}
		return nil
	})

	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i, done := range held {
		if err := <-done; err != nil {
			t.Fatalf("held registration %d: %v", i, err)
		}
	}
	if got, want := a.eventsOfType("ParticipantRegistered", eventID), int64(len(held)); got != want {
		t.Fatalf("stored %d registrations, want the %d held ones (the one whose client left was written)", got, want)
	}
	a.register(eventID, "김철수", "010-8888-9999") // 201, not 409: nothing of it was stored
}
