package app

// Roles and scale-out: several instances on one database and one broker.

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/google/uuid"

	"github.com/shopevents/participation/internal/testenv"
)

// Test 5: two instances on one database and topic: one relay publishes,
// the other takes over when it stops, and no registration is lost or
// counted twice.
func TestInstancesShareOneRelayAndTakeOver(t *testing.T) {
	t.Parallel()
	setup := appSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t)}
	instances := []*testApp{newTestAppWith(t, setup), newTestAppWith(t, setup)}
	stops := []func(){instances[0].run(), instances[1].run()}
	bothLead := func() error {
		if instances[0].svc.relay.Leader() && instances[1].svc.relay.Leader() {
			return errors.New("both relays lead")
		}
		return nil
	}
	leader := -1
	waitUntil(t, "one relay leading", func() error {
		if err := bothLead(); err != nil {
			t.Fatal(err)
		}
		for i, in := range instances {
			if in.svc.relay.Leader() {
				leader = i
				return nil
			}
		}
		return errors.New("no relay leads")
	})
	standby := 1 - leader
	a := instances[0]
	owner := a.ownerView(ownerA)
	campaigns := []uuid.UUID{a.openCampaign(ownerA, openNow()), a.openCampaign(ownerA, openNow())}

	created := map[uuid.UUID]map[uuid.UUID]registered{campaigns[0]: {}, campaigns[1]: {}}
	total := func() int { return len(created[campaigns[0]]) + len(created[campaigns[1]]) }
	register := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			in, eventID := instances[i%2], campaigns[(i/2)%2] // every instance, every campaign
			ans, err := in.try(http.MethodPost, participationsPath, "", aCustomer(i).body(eventID))
			if err != nil {
				t.Fatal(err)
			}
			if ans.Status != http.StatusCreated {
				t.Errorf("registration %d → %d, want 201: %s", i, ans.Status, ans.Body)
				continue
			}
			reg := decode[registrationJSON](t, ans)
			created[eventID][reg.ParticipantID] = registered{reg, aCustomer(i)}
		}
	}
	projected := func() error {
		for _, eventID := range campaigns {
			for _, in := range instances {
				view := in.ownerView(ownerA)
				an := readJSON[analyticsView](view, analyticsPath(eventID))
				p := readJSON[participantPage](view, participantsPath(eventID, "size=1"))
				if want := int64(len(created[eventID])); an.TotalParticipants != want || p.TotalCount != want {
					return fmt.Errorf("campaign %s: analytics %d, list %d, want %d", eventID, an.TotalParticipants, p.TotalCount, want)
				}
			}
		}
		return nil
	}

	register(0, 16)
	head := a.head()
	waitUntil(t, "the leader publishing and both read sides projecting", func() error {
		if err := bothLead(); err != nil {
			t.Fatal(err)
		}
		if p := instances[leader].svc.relay.Position(); p < head {
			return fmt.Errorf("leader at %d, head %d", p, head)
		}
		return projected()
	})
	if s := instances[standby].svc.relay; s.Leader() || s.Position() != 0 {
		t.Errorf("the standby relay leads (%t) or published (position %d)", s.Leader(), s.Position())
	}

	stops[leader]() // its HTTP server keeps taking registrations
	register(16, 32)
	head = a.head()
	waitUntil(t, "the standby taking over and everything projected", func() error {
		if s := instances[standby].svc.relay; !s.Leader() || s.Position() < head {
			return fmt.Errorf("standby leads: %t, at %d, head %d", s.Leader(), s.Position(), head)
		}
		return projected()
	})
	if got, want := total(), 32; got != want {
		t.Fatalf("registrations answered 201 = %d, want %d", got, want)
	}
	for _, eventID := range campaigns {
		owner.assertEachOnce(t, eventID, created[eventID])
	}

	// At least once: every stored event is on the topic; a takeover may have
	// published some twice, which the read models absorbed above.
	stored := a.storedEvents()
	seen := map[string]int{}
	records := wholeTopic(t, setup.Brokers, setup.Topic)
	for _, r := range records {
		seen[r.headers[kafka.UUIDHeaderKey]]++
	}
	for id, e := range stored {
		if seen[id.String()] == 0 {
			t.Errorf("stored %s %s is not on the topic", e.Type, id)
		}
	}
	if got, want := len(seen), len(stored); got != want {
		t.Errorf("distinct event ids on the topic = %d, want the %d stored", got, want)
	}
	t.Logf("%d events stored, %d records on the topic (%d duplicates after the takeover)", len(stored), len(records), len(records)-len(seen))
	owner.assertNoPersonalData(t, customersOf(slices.Concat(slices.Collect(maps.Values(created[campaigns[0]])),
		slices.Collect(maps.Values(created[campaigns[1]])))))
}

// An API-only instance and a relay-and-projectors instance on one database
// and topic make one service: what the first accepts, the second publishes
// and projects, and the first's queries show it. The background-only
// instance serves only the operations endpoints.
func TestRolesSplitAcrossInstances(t *testing.T) {
	t.Parallel()
	setup := appSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t)}
	apiSetup, workerSetup := setup, setup
	apiSetup.Roles = Roles{API: true}
	workerSetup.Roles = Roles{Relay: true, Projectors: true}
	front, worker := newTestAppWith(t, apiSetup), newTestAppWith(t, workerSetup)
	if front.svc.relay != nil || front.svc.readSide != nil {
		t.Fatal("the API-only instance wired a relay or projectors")
	}
	if worker.svc.commands != nil || worker.svc.queries != nil {
		t.Fatal("the background-only instance wired commands or queries")
	}
	front.run() // nothing to run: returns at once, without error
	worker.run()

	owner := front.ownerView(ownerA)
	eventID := front.openCampaign(ownerA, openNow())
	created := map[uuid.UUID]registered{}
	for i := range 12 {
		reg := front.registerCustomer(eventID, aCustomer(i), "")
		created[reg.ParticipantID] = reg
	}
	waitUntil(t, "the worker publishing and projecting what the API accepted", func() error {
		an := readJSON[analyticsView](owner, analyticsPath(eventID))
		p := readJSON[participantPage](owner, participantsPath(eventID, "size=1"))
		if want := int64(len(created)); an.TotalParticipants != want || p.TotalCount != want {
			return fmt.Errorf("analytics %d, list %d, want %d", an.TotalParticipants, p.TotalCount, want)
		}
		return nil
	})
	owner.assertEachOnce(t, eventID, created)
	owner.assertNoPersonalData(t, customersOf(slices.Collect(maps.Values(created))))

	for path, want := range map[string]int{
		"/healthz": http.StatusOK, "/readyz": http.StatusOK, "/metrics": http.StatusNotFound, // on METRICS_ADDR
		participationsPath: http.StatusNotFound, "/api/v1/events": http.StatusNotFound,
	} {
		resp, err := http.Get(worker.url + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("background-only instance: GET %s → %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// Three instances on one database and one broker — two with every role, one
// with the API only — under load; the relay leader is killed (SIGKILL). The
// other relay takes over (the time it took is logged, not asserted), and
// every read model ends exact: nothing lost, nothing applied twice.
func TestThreeInstancesSurviveRelayLeaderKill(t *testing.T) {
	t.Parallel()
	serialHeavy(t)
	setup := processSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t)}
	pool := openPool(t, setup.DatabaseURL)
	roles := killableRoles(t, setup)
	full := []*instance{startInstance(t, "instance-1", setup, roles), startInstance(t, "instance-2", setup, roles)}
	apiOnly := startInstance(t, "instance-3-api", setup, Roles{API: true})
	clients := []*testApp{full[0].client(pool), full[1].client(pool), apiOnly.client(pool)}
	owner := clients[2].ownerView(ownerA)
	campaigns := []uuid.UUID{clients[2].openCampaign(ownerA, openNow()), clients[2].openCampaign(ownerA, openNow()),
		clients[2].openCampaign(ownerA, openNow())}

	leaders := func() ([]int, error) {
		var out []int
		for i, in := range full {
			leads, err := in.relayLeads()
			if err != nil {
				return nil, err
			}
			if leads {
				out = append(out, i)
			}
		}
		return out, nil
	}
	leader := -1
	waitUntil(t, "one relay leading", func() error {
		l, err := leaders()
		if err != nil {
			return err
		}
		if len(l) > 1 {
			t.Fatalf("relays of instances %v lead at once", l)
		}
		if len(l) == 0 {
			return errors.New("no relay leads")
		}
		leader = l[0]
		return nil
	})
	standby := 1 - leader

	l := startLoad(t, clients, campaigns, 6)
	waitUntil(t, "registrations flowing through all three", func() error {
		if n := l.count(http.StatusCreated); n < 300 {
			return fmt.Errorf("%d answered 201", n)
		}
		return nil
	})
	full[leader].kill()
	killed := time.Now()
	waitUntil(t, "the standby relay taking over", func() error {
		leads, err := full[standby].relayLeads()
		if err != nil {
			return err
		}
		if !leads {
			return errors.New("the standby does not lead yet")
		}
		return nil
	})
	takeover := time.Since(killed)
	more := l.count(http.StatusCreated)
	waitUntil(t, "registrations after the take-over", func() error {
		if n := l.count(http.StatusCreated) - more; n < 300 {
			return fmt.Errorf("%d answered 201 since", n)
		}
		return nil
	})
	l.stop()
	t.Logf("relay take-over %s after the leader's SIGKILL (DESIGN: within 5 s; polled every 50 ms); %s",
		takeover.Round(10*time.Millisecond), l.summary())

	// A draw after the kill reaches the winners model through the new leader.
	drawn := clients[2].draw(ownerA, campaigns[0], 5)
	waitUntil(t, "the draw in the winners read model", func() error {
		if w := readJSON[winnerList](owner, winnersPath(campaigns[0])); len(w.Winners) != len(drawn.Winners) {
			return fmt.Errorf("%d winners listed, %d drawn", len(w.Winners), len(drawn.Winners))
		}
		return nil
	})
	l.assertAllStored(t, pool, owner) // first: it names what is missing, if anything
	assertReadModelsMatchRebuild(t, pool)
}
