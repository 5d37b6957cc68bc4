package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
	"github.com/shopevents/participation/relay"
)

func TestQueriesKeepAnsweringDuringRebuilds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	campaigns := seedOddities(t, e)
	applyLive(t, projections.NewProjectors(e.pool, nil), e.allEvents(t))
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	want := mustAnswers(t, q, campaigns)

	ctx, stop := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		asked   atomic.Int64
		failure atomic.Value
	)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				got, err := answers(ctx, q, campaigns)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					failure.CompareAndSwap(nil, err.Error())
					return
				}
				if diff := cmp.Diff(want, got, timeEqual); diff != "" {
					failure.CompareAndSwap(nil, "answers changed:\n"+diff)
					return
				}
				asked.Add(1)
			}
		})
	}
	for range 5 {
		rebuild(t, e.pool, projections.RebuildOptions{PageSize: 50})
	}
	stop()
	wg.Wait()
	if f := failure.Load(); f != nil {
		t.Fatal(f)
	}
	if asked.Load() < 4 {
		t.Errorf("only %d rounds of queries ran during the rebuilds", asked.Load())
	}
	t.Logf("%d rounds of queries during 5 rebuilds", asked.Load())
}

func startLiveProjector(ctx context.Context, e env, after int64) *liveProjector {
	l := &liveProjector{tail: e.store.NewTail(after), done: make(chan struct{})}
	projectors := projections.NewProjectors(e.pool, nil)
	publicize := publicizer(e.pool) // what the relay would publish of them
	go func() {
		defer close(l.done)
		for ctx.Err() == nil {
			events, _, err := l.tail.Next(ctx, 50)
			if err != nil {
				continue
			}
			public, err := publicize(ctx, events)
			for err != nil && ctx.Err() == nil { // the tail moved on: these events must not be lost
				time.Sleep(10 * time.Millisecond)
				public, err = publicize(ctx, events)
			}
			events = public
			// A page at a time, as the live router applies a batch: one
			// event at a time fell behind the appender under -race.
			for _, p := range projectors {
				if len(events) == 0 {
					break
				}
				for {
					_, err := p.ApplyBatch(ctx, events)
					if err == nil || ctx.Err() != nil {
						break
					}
					l.retries.Add(1)
					time.Sleep(10 * time.Millisecond)
				}
			}
			if len(events) > 0 {
				l.applied.Store(events[len(events)-1].Position)
			}
			if len(events) == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	}()
	return l
}

// registration makes the i-th registration of campaign c.
func registration(c *campaignData, i int) domain.ParticipantRegistered {
	phone := fmt.Sprintf("010-%04d-%04d", 5000+i/10000, i%10000)
	return domain.ParticipantRegistered{
		ParticipantID: domain.ParticipantID([]byte("test-pii-key"), c.id, phone), EventID: c.id,
		EntryNumber: fmt.Sprintf("R%05d", i), Name: koreanNames[i%len(koreanNames)], Phone: phone,
		EntryPath: domain.EntryPaths[i%len(domain.EntryPaths)], PrivacyConsent: true,
		Timestamp: seedStart.Add(time.Duration(i) * time.Minute),
	}
}

func appendEvent(ctx context.Context, e env, ev domain.Event, campaign uuid.UUID) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = e.store.Append(ctx, ev.StreamID(), eventstore.Any, eventstore.EventData{
		PartitionKey: campaign.String(), Type: ev.EventType(), SchemaVersion: domain.SchemaVersion, Data: data,
	})
	return err
}

func TestRegistrationsDuringRebuildCountOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.seedCampaign(t, 300, seedStart, 4) // grows in the rebuild's progress callbacks
	b := e.seedCampaign(t, 20, seedStart, 0)  // grows from a goroutine throughout
	events := e.allEvents(t)
	applyLive(t, projections.NewProjectors(e.pool, nil), events)
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	live := startLiveProjector(liveCtx, e, events[len(events)-1].Position)

	// Appends are not cancelled midway: a cancelled one may have committed.
	var (
		appender  sync.WaitGroup
		stopped   atomic.Bool
		bVisits   int
		appendErr error
	)
	appender.Go(func() {
		for i := len(b.regs); !stopped.Load(); i++ {
			r := registration(b, i)
			if appendErr = appendEvent(ctx, e, r, b.id); appendErr != nil {
				return
			}
			b.regs = append(b.regs, r)
			if i%3 == 0 {
				v := domain.StoreVisitRecorded{ParticipantID: r.ParticipantID, EventID: b.id, VisitedAt: r.Timestamp}
				if appendErr = appendEvent(ctx, e, v, b.id); appendErr != nil {
					return
				}
				bVisits++
			}
		}
	})
	perPhase := map[string]int{}
	var callbackErr error
	report := rebuild(t, e.pool, projections.RebuildOptions{PageSize: 100, Progress: func(p projections.RebuildProgress) {
		for range 3 {
			r := registration(a, len(a.regs))
			if err := appendEvent(ctx, e, r, a.id); err != nil {
				callbackErr = err
				return
			}
			a.regs = append(a.regs, r)
			perPhase[p.Phase]++
		}
	}})
	stopped.Store(true)
	appender.Wait()
	if appendErr != nil {
		t.Fatal(appendErr)
	}
	if callbackErr != nil {
		t.Fatal(callbackErr)
	}
	for _, phase := range []string{projections.PhaseReplay, projections.PhaseIndex, projections.PhaseCatchUp, projections.PhaseSwap} {
		if perPhase[phase] == 0 {
			t.Errorf("no registration during the %s phase (%v)", phase, perPhase)
		}
	}
	head, err := e.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "the live projector reaches the head", func() bool { return live.applied.Load() >= head })
	stopLive()
	<-live.done
	t.Logf("rebuild: %+v; registered during it: %d in a (%v), %d in b; the live projector retried %d times",
		report.Projections, len(a.regs)-300, perPhase, len(b.regs)-20, live.retries.Load())

	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	for _, c := range []*campaignData{a, b} {
		each := everyParticipant(t, q, c.id)
		page, err := q.Participants(ctx, c.id, projections.ParticipantFilter{Page: 1, Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		an, err := q.Analytics(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(len(c.regs))
		if int64(len(each)) != n || page.TotalCount != n || an.TotalParticipants != n {
			t.Errorf("campaign with %d registrations: %d rows, totalCount %d, analytics %d",
				n, len(each), page.TotalCount, an.TotalParticipants)
		}
		seen := map[uuid.UUID]bool{}
		for i, row := range each {
			if seen[row.ParticipantID] {
				t.Fatalf("participant %s twice", row.ParticipantID)
			}
			seen[row.ParticipantID] = true
			if want := c.regs[len(c.regs)-1-i].ParticipantID; row.ParticipantID != want {
				t.Fatalf("row %d is %s, want %s: not in registration order", i, row.ParticipantID, want)
			}
		}
	}
	if an, _ := q.Analytics(ctx, b.id); an.StoreVisits != int64(bVisits) {
		t.Errorf("b's visits = %d, want %d", an.StoreVisits, bVisits)
	}
	// And the tables are what a rebuild from the store gives.
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true, DryRun: true}); r.Differs() || len(r.Lagging) > 0 {
		t.Errorf("the live tables differ from the store's: %+v, lagging %v", r.Diffs, r.Lagging)
	}
}

// The real thing: the relay publishes to Kafka and the router projects
// while registrations keep coming and the read models are rebuilt twice.
func TestRebuildWhileTheRouterRuns(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := newEnv(t)
	ctx := context.Background()
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	a := e.seedCampaign(t, 200, seedStart, 3)
	publisher, err := relay.New(e.store, relay.Config{Topic: topic, Brokers: brokers, Logger: logger, Publicize: testPublicize(t, e.pool)})
	if err != nil {
		t.Fatal(err)
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	relayDone := make(chan error, 1)
	go func() { relayDone <- publisher.Run(relayCtx) }()
	t.Cleanup(func() { stopRelay(); <-relayDone })
	startRouter(t, projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: e.pool, Logger: logger,
		FlushInterval: 100 * time.Millisecond})
	q := projections.NewQueries(e.pool, nil)
	t.Cleanup(q.Close)
	total := func() int64 {
		page, err := q.Participants(ctx, a.id, projections.ParticipantFilter{Page: 1, Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		return page.TotalCount
	}
	waitFor(t, 90*time.Second, "the router projects the first registrations", func() bool { return total() == 200 })

	var (
		appender  sync.WaitGroup
		stopped   atomic.Bool
		appendErr error
		regs      = []domain.ParticipantRegistered{}
	)
	appender.Go(func() {
		for i := 0; !stopped.Load(); i++ {
			r := registration(a, i)
			if appendErr = appendEvent(ctx, e, r, a.id); appendErr != nil {
				return
			}
			regs = append(regs, r)
			time.Sleep(time.Millisecond)
		}
	})
	for range 2 {
		r := rebuild(t, e.pool, projections.RebuildOptions{PageSize: 50})
		t.Logf("rebuild: %d events up to %d, %d swap attempts", r.Events, r.Position, r.SwapAttempts)
	}
	stopped.Store(true)
	appender.Wait()
	if appendErr != nil {
		t.Fatal(appendErr)
	}
	want := int64(200 + len(regs))
	waitFor(t, 60*time.Second, "the router catches up", func() bool {
		status, err := projections.Status(ctx, e.pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range status {
			if s.Lag > 0 {
				return false
			}
		}
		return total() == want
	})
	an, err := q.Analytics(ctx, a.id)
	if err != nil {
		t.Fatal(err)
	}
	if each := everyParticipant(t, q, a.id); int64(len(each)) != want || an.TotalParticipants != want {
		t.Errorf("%d registered: %d rows, analytics %d", want, len(each), an.TotalParticipants)
	}
	if r := rebuild(t, e.pool, projections.RebuildOptions{Verify: true, DryRun: true}); r.Differs() || len(r.Lagging) > 0 {
		t.Errorf("the router's tables differ from the store's: %+v, lagging %v", r.Diffs, r.Lagging)
	}
	t.Logf("%d registrations during the rebuilds", len(regs))
}
