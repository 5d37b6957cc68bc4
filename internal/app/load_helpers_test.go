package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
	"github.com/shopevents/participation/projections"
)

// load registers distinct phones across campaigns from several goroutines
// until stopped, spreading the requests over targets, and keeps every
// answer: what a fault test needs to show that nothing answered 201 was lost.
type load struct {
	t         *testing.T
	targets   []*testApp
	campaigns []uuid.UUID
	next      atomic.Int64
	stopping  chan struct{}
	wg        sync.WaitGroup

	mu        sync.Mutex
	created   map[uuid.UUID]uuid.UUID // participant → campaign, for every 201
	statuses  map[int]int
	transport int       // requests with no answer (the service was killed, the connection cut)
	last201   time.Time // when the latest 201 arrived
}

// heavy serializes the fault tests that run a load against several
// processes: together they would starve the shared 2-core machine (and each
// other's databases) rather than test anything. They still run beside the
// package's lighter tests.
var heavy sync.Mutex

// serialHeavy holds heavy for the rest of the test.
func serialHeavy(t *testing.T) {
	t.Helper()
	heavy.Lock()
	t.Cleanup(heavy.Unlock)
}

// startLoad starts workers goroutines registering against targets, which
// take 503 as an answer (the tests take a dependency away on purpose).
func startLoad(t *testing.T, targets []*testApp, campaigns []uuid.UUID, workers int) *load {
	t.Helper()
	l := &load{t: t, campaigns: campaigns, stopping: make(chan struct{}),
		created: map[uuid.UUID]uuid.UUID{}, statuses: map[int]int{}}
	for _, a := range targets {
		l.targets = append(l.targets, a.tolerating503())
	}
	for range workers {
		l.wg.Go(l.work)
	}
	t.Cleanup(l.stop)
	return l
}

func (l *load) work() {
	for {
		select {
		case <-l.stopping:
			return
		default:
		}
		i := int(l.next.Add(1))
		target, eventID := l.targets[i%len(l.targets)], l.campaigns[(i/len(l.targets))%len(l.campaigns)]
		ans, err := target.try(http.MethodPost, participationsPath, "", registrationBody(eventID, "김철수", phoneNumber(i), "KAKAO"))
		l.mu.Lock()
		switch {
		case err != nil:
			l.transport++
		case ans.Status == http.StatusCreated:
			var reg registrationJSON
			if json.Unmarshal(ans.Body, &reg) != nil || reg.ParticipantID == uuid.Nil {
				l.t.Errorf("201 without a participant id: %s", ans.Body)
			}
			l.created[reg.ParticipantID] = eventID
			l.statuses[ans.Status]++
			l.last201 = time.Now()
		default:
			l.statuses[ans.Status]++
			checkUnavailable(l.t, ans)
		}
		l.mu.Unlock()
		if err != nil {
			time.Sleep(20 * time.Millisecond) // the service is away: do not spin
		}
	}
}

// checkUnavailable fails the test unless ans is 503 in the error shape,
// with nothing of the database's own words in it.
func checkUnavailable(t *testing.T, ans answer) {
	t.Helper()
	if ans.Status != http.StatusServiceUnavailable {
		t.Errorf("registration → %d, want 201 or (a dependency away) 503: %s", ans.Status, ans.Body)
		return
	}
	if e := errorOf(ans); e.Code != "UNAVAILABLE" || e.Message == "" {
		t.Errorf("503 body %s, want the error shape with code UNAVAILABLE", ans.Body)
	}
	lower := strings.ToLower(string(ans.Body))
	for _, leak := range []string{"sql", "pgx", "pgconn", "postgres", "dial", "connection", "127.0.0.1", "insert", "select", "goroutine"} {
		if strings.Contains(lower, leak) {
			t.Errorf("503 body carries %q: %s", leak, ans.Body)
		}
	}
}

// stop stops the workers and waits for them.
func (l *load) stop() {
	select {
	case <-l.stopping:
	default:
		close(l.stopping)
	}
	l.wg.Wait()
}

// count is the number of answers with status.
func (l *load) count(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.statuses[status]
}

// createdSince is the number of 201s that arrived after since.
func (l *load) createdAfter(since time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last201.After(since)
}

func (l *load) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("answers by status %v, %d without an answer", l.statuses, l.transport)
}

// assertAllStored checks that every registration answered 201 is in the
// event store, and that every campaign's participant list holds exactly
// the campaign's stored registrations (a request cut off mid-commit may be
// stored without a 201; it must then be listed like any other).
func (l *load) assertAllStored(t *testing.T, pool *pgxpool.Pool, owner *ownerView) {
	t.Helper()
	l.mu.Lock()
	created := make(map[uuid.UUID]uuid.UUID, len(l.created))
	for p, e := range l.created {
		created[p] = e
	}
	l.mu.Unlock()
	if len(created) == 0 {
		t.Fatal("no registration answered 201")
	}
	stored := map[uuid.UUID]map[uuid.UUID]bool{}
	positions := map[uuid.UUID]int64{}
	rows, err := pool.Query(t.Context(), `SELECT data->>'participantId', data->>'eventId', position FROM events WHERE type = 'ParticipantRegistered'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, e uuid.UUID
		var pos int64
		if err := rows.Scan(&p, &e, &pos); err != nil {
			t.Fatal(err)
		}
		if stored[e] == nil {
			stored[e] = map[uuid.UUID]bool{}
		}
		stored[e][p] = true
		positions[p] = pos
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for p, e := range created {
		if !stored[e][p] {
			lost++
			t.Errorf("registration %s answered 201 is not in the event store", p)
		}
	}
	// Let the read side catch up (without failing here: what stays missing
	// is named below).
	for deadline := time.Now().Add(waitLimit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		caughtUp := true
		for _, eventID := range l.campaigns {
			page := readJSON[participantPage](owner, participantsPath(eventID, "size=1"))
			caughtUp = caughtUp && page.TotalCount == int64(len(stored[eventID]))
		}
		if caughtUp {
			break
		}
	}
	extra := 0
	for _, eventID := range l.campaigns {
		extra += len(stored[eventID])
		rows, total := owner.allParticipants(eventID, nil, 100)
		if total != int64(len(stored[eventID])) {
			t.Errorf("campaign %s: %d listed, %d stored", eventID, total, len(stored[eventID]))
		}
		listed := map[uuid.UUID]bool{}
		for _, r := range rows {
			listed[r.ParticipantID] = true
			if !stored[eventID][r.ParticipantID] {
				t.Errorf("campaign %s lists %s, which is not stored", eventID, r.ParticipantID)
			}
		}
		for p := range stored[eventID] {
			if !listed[p] {
				_, acked := created[p]
				t.Errorf("campaign %s: stored registration %s (position %d, answered 201: %t) is not listed", eventID, p, positions[p], acked)
			}
		}
	}
	t.Logf("%d registrations answered 201, %d lost; %d stored (%d without a 201: cut off mid-commit)",
		len(created), lost, extra, extra-len(created)+lost)
}

// testPublicize opens and masks registrations sealed with testPIIKey, as
// the service does, for a rebuild run by a test.
func testPublicize(t *testing.T, pool *pgxpool.Pool) projections.Publicize {
	t.Helper()
	keys, err := privacy.NewKeys(testPIIKey)
	if err != nil {
		t.Fatal(err)
	}
	return privacy.NewPublicizer(keys, eventstore.New(pool), slog.New(slog.DiscardHandler)).Public
}

// assertReadModelsMatchRebuild rebuilds every read model from the store
// beside the live ones (a dry run) until the live projectors have reached
// the rebuild's position on every campaign they hold (the rebuild's own
// per-campaign check: projection_positions), then fails the test on any
// difference.
func assertReadModelsMatchRebuild(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var report projections.RebuildReport
	waitUntil(t, "the live read models equal to a rebuild from the store", func() error {
		// No deadline of its own: on a loaded machine one rebuild may take
		// longer than a wait; waitUntil's deadline applies between attempts.
		opts := projections.RebuildOptions{Verify: true, DryRun: true, Publicize: testPublicize(t, pool)}
		// The replay opens with one scan's keys, as the command does.
		var err error
		if opts.ReplayPublicize, err = ReplayPublicizer(pool, testPIIKey, slog.New(slog.DiscardHandler)); err != nil {
			return err
		}
		if report, err = projections.Rebuild(t.Context(), pool, opts); err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		if len(report.Lagging) > 0 {
			return fmt.Errorf("live projections behind the rebuild on %v", report.Lagging)
		}
		if report.Differs() {
			var diffs []string
			for _, d := range report.Diffs {
				if d.Differs() {
					diffs = append(diffs, fmt.Sprintf("%s: live %d rows, rebuilt %d, only live %d, only rebuilt %d, different %d (%v)",
						d.Table, d.LiveRows, d.RebuiltRows, d.OnlyLive, d.OnlyRebuilt, d.Different, d.Keys))
				}
			}
			return errors.New("the live read models differ from a rebuild: " + strings.Join(diffs, "; "))
		}
		return nil
	})
	t.Logf("read models equal to a rebuild of %d events (%d tables compared)", report.Events, len(report.Diffs))
	if status, err := projections.Status(t.Context(), pool); err == nil {
		for _, s := range status {
			if s.Lag > 0 {
				// Seen after kill -9: a projection's checkpoint of ignored events
				// (flushed every second, for status only) stays behind.
				t.Logf("note: projections status shows %s at %d of %d", s.Name, s.Position, s.Head)
			}
		}
	}
}
