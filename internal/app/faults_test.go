package app

// Faults, tested with faults: a broker outage, a killed service, a
// PostgreSQL restart. Nothing answered 201 is lost.

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Test 4: with Kafka down, customers still register; when it is back,
// every registration reaches every read model once.
//
// This test always runs on kfake, even when KAFKA_BROKERS names a real Kafka
// (as in CI): it stops the broker and starts it again on the same port with
// the same data directory, which it can do only with a broker of its own.
func TestOutageLosesNoRegistration(t *testing.T) {
	t.Parallel()
	port, dir := freePort(t), t.TempDir()
	var broker *kfake.Cluster
	startBroker := func() {
		t.Helper()
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(),
			kfake.DefaultNumPartitions(3), kfake.DataDir(dir), kfake.SyncWrites())
		if err != nil {
			t.Fatalf("start kfake on port %d: %v", port, err)
		}
		broker = c
	}
	startBroker()
	t.Cleanup(func() { broker.Close() }) // after the app below stopped
	a := newTestAppWith(t, appSetup{Brokers: broker.ListenAddrs()})
	a.run()
	owner := a.ownerView(ownerA)
	eventID := a.openCampaign(ownerA, openNow())

	created := map[uuid.UUID]registered{}
	register := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			ans, err := a.try(http.MethodPost, participationsPath, "", aCustomer(i).body(eventID))
			if err != nil {
				t.Fatal(err)
			}
			if ans.Status != http.StatusCreated {
				t.Errorf("registration %d → %d, want 201: %s", i, ans.Status, ans.Body)
				continue
			}
			reg := decode[registrationJSON](t, ans)
			created[reg.ParticipantID] = registered{reg, aCustomer(i)}
		}
	}
	register(0, 5)
	waitUntil(t, "the first registrations projected", func() error {
		if an := readJSON[analyticsView](owner, analyticsPath(eventID)); an.TotalParticipants != 5 {
			return fmt.Errorf("analytics: %d participants", an.TotalParticipants)
		}
		return nil
	})

	failedBefore := strings.Count(a.logs.String(), relayPublishFailed)
	broker.Close()
	register(5, 30)
	var visitedEntry string
	for _, r := range created {
		visitedEntry = r.EntryNumber
		break
	}
	a.visit(eventID, visitedEntry, "")
	if got, want := len(created), 30; got != want {
		t.Fatalf("registrations answered 201 with Kafka down: %d of %d", got-5, want-5)
	}
	// Kafka stays down until the relay has tried and failed, so the outage
	// is one the relay saw, not a blip its producer's retries hid.
	head := a.head()
	waitUntil(t, "the relay failing to publish with Kafka down", func() error {
		if strings.Count(a.logs.String(), relayPublishFailed) > failedBefore || a.svc.relay.Position() >= head {
			return nil
		}
		return errors.New("no failed publish yet")
	})
	if p := a.svc.relay.Position(); p >= head {
		t.Errorf("relay position %d reached the head %d with the broker down", p, head)
	}

	startBroker()
	waitUntil(t, "every registration projected after the outage", func() error {
		an := readJSON[analyticsView](owner, analyticsPath(eventID))
		p := readJSON[participantPage](owner, participantsPath(eventID, "size=1"))
		if an.TotalParticipants != int64(len(created)) || an.StoreVisits != 1 || p.TotalCount != int64(len(created)) {
			return fmt.Errorf("analytics: %d participants, %d visits; list: %d", an.TotalParticipants, an.StoreVisits, p.TotalCount)
		}
		return nil
	})
	owner.assertEachOnce(t, eventID, created)
	owner.assertNoPersonalData(t, customersOf(slices.Collect(maps.Values(created))))
}
