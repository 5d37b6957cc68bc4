package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/shopevents/participation/beacon/beacontest"
	"github.com/shopevents/participation/internal/testenv"
)

// kill -9 between a drand draw's commit and its result: the restarted
// instance's relay leader finds the pending draw in the store and
// completes it with the committed round. The beacon forges its rounds
// until the kill, so the first instance cannot complete the draw however
// fast it runs: the kill is between commit and result by construction.
func TestDrandKill9BetweenCommitAndResult(t *testing.T) {
	b := beacontest.New(t, beacontest.Options{Period: time.Second}) // the machine's clock: a process of its own
	b.SetFault(beacontest.BadSignature)
	setup := processSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t),
		Env: []string{"DRAW_RANDOMNESS=drand", "DRAND_URLS=" + b.URL(), "DRAND_CHAIN_HASH=" + b.ChainHash(),
			"DRAND_MARGIN=1s", "DRAW_WAIT=1ms"}}
	pool := openPool(t, setup.DatabaseURL)
	in := startInstance(t, "serve", setup, Roles{API: true, Relay: true})
	a := in.client(pool)
	eventID := drandCampaign(a, 5)

	if ans := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 2}); ans.Status != http.StatusAccepted {
		t.Fatalf("draw → %d, want 202: %s", ans.Status, ans.Body)
	}
	commit := a.committed(eventID)
	refusedAtLeast(t, "http://"+in.mAddr, 1) // the round is out and was asked for
	in.kill()
	if ev := a.drawEvents(eventID); len(ev.Results) != 0 {
		t.Fatalf("a result before the restart: %+v", ev.Results)
	}

	b.SetFault(beacontest.Healthy)
	in.start()
	drawn := a.drawnWith(eventID, b)
	if drawn.Beacon.Round != commit.Randomness.Round {
		t.Fatalf("completed with round %d, committed %d", drawn.Beacon.Round, commit.Randomness.Round)
	}
	a.verified(ownerA, drawn.DrawID)
}
