package app

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
)

// The service is killed (SIGKILL: no shutdown, no flush) under load and
// started again: nothing answered 201 is lost, every read model ends
// equal to a rebuild from the store, and status shows no lag left.
func TestKill9UnderLoad(t *testing.T) {
	t.Parallel()
	serialHeavy(t)
	setup := processSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t)}
	pool := openPool(t, setup.DatabaseURL)
	in := startInstance(t, "serve", setup, killableRoles(t, setup))
	a := in.client(pool)
	owner := a.ownerView(ownerA)
	campaigns := []uuid.UUID{a.openCampaign(ownerA, openNow()), a.openCampaign(ownerA, openNow())}

	l := startLoad(t, []*testApp{a}, campaigns, 8)
	for round := range 2 {
		before := l.count(http.StatusCreated)
		waitUntil(t, "registrations flowing", func() error {
			if n := l.count(http.StatusCreated) - before; n < 150 {
				return fmt.Errorf("%d answered 201 (round %d)", n, round)
			}
			return nil
		})
		in.kill()
		restarted := time.Now()
		in.start()
		waitUntil(t, "registrations answered 201 after the restart", func() error {
			if !l.createdAfter(restarted) {
				return errors.New(l.summary())
			}
			return nil
		})
	}
	after := l.count(http.StatusCreated)
	waitUntil(t, "load after the last restart", func() error {
		if n := l.count(http.StatusCreated) - after; n < 150 {
			return fmt.Errorf("%d answered 201", n)
		}
		return nil
	})
	l.stop()
	t.Logf("killed twice under load: %s", l.summary())
	// Killed once more as the load ends, while the projectors catch up:
	// with no event after it, status must still come down to no lag, also
	// for the models that ignore registrations (their checkpoint counts
	// what Kafka committed past, before the commit).
	in.kill()
	in.start()
	waitUntil(t, "projections status: no lag after the last kill", func() error {
		status, err := projections.Status(t.Context(), pool)
		if err != nil {
			return err
		}
		for _, s := range status {
			if s.Lag != 0 {
				return fmt.Errorf("%s: lag %d (position %d, head %d)", s.Name, s.Lag, s.Position, s.Head)
			}
		}
		return nil
	})
	// A draw after the restarts reaches the winners and draw-log models
	// only if their consumers came back too.
	drawn := a.draw(ownerA, campaigns[0], 3)
	waitUntil(t, "the draw in the winners read model", func() error {
		if w := readJSON[winnerList](owner, winnersPath(campaigns[0])); len(w.Winners) != len(drawn.Winners) {
			return fmt.Errorf("%d winners listed, %d drawn", len(w.Winners), len(drawn.Winners))
		}
		return nil
	})

	l.assertAllStored(t, pool, owner) // first: it names what is missing, if anything
	assertReadModelsMatchRebuild(t, pool)
}

// killableRoles are the roles a test may kill with SIGKILL: all of them
// against a real Kafka (CI). The in-process kfake never expires the
// consumer-group membership of a killed process, so its partitions stay
// assigned to the dead member and a projection stops for good (seen: the
// same test passes against Apache Kafka 4.1); with kfake the killed
// processes run the API and the relay, and the projectors run here, alive.
func killableRoles(t *testing.T, setup processSetup) Roles {
	t.Helper()
	if os.Getenv("KAFKA_BROKERS") != "" {
		return AllRoles
	}
	t.Log("kfake: the projectors run in the test process, not in the processes killed (set KAFKA_BROKERS to kill them too)")
	projectors := newTestAppWith(t, appSetup{DatabaseURL: setup.DatabaseURL, Brokers: setup.Brokers, Topic: setup.Topic,
		Roles: Roles{Projectors: true}})
	projectors.run()
	return Roles{API: true, Relay: true}
}
