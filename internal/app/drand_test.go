package app

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/beacon/beacontest"
	"github.com/shopevents/participation/domain"
)

// drandCampaign opens a campaign of ownerA with n registrations.
func drandCampaign(a *testApp, n int) uuid.UUID {
	a.t.Helper()
	eventID := a.openCampaign(ownerA, openNow())
	for i := range n {
		a.register(eventID, "참가자", phoneNumber(i))
	}
	return eventID
}

// A round published within DRAW_WAIT: the request itself completes the
// draw and answers 200 with the winners, seeded by the committed round.
func TestDrandDrawCompletesWithinDrawWait(t *testing.T) {
	w := newDrandWorld(t)
	a := newTestAppWith(t, appSetup{Draw: w.setup(time.Minute)})
	eventID := drandCampaign(a, 6)

	answered := make(chan answer, 1)
	go func() {
		ans, err := a.try(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 2, "alternateCount": 1})
		if err != nil {
			t.Error(err)
		}
		answered <- ans
	}()
	commit := a.committed(eventID)
	// registration is closed from the commit on, while the round is still to come
	if ans := a.call(http.MethodPost, "/api/v1/participations", "", registrationBody(eventID, "늦은", phoneNumber(99), "INSTAGRAM")); ans.Status != http.StatusConflict {
		t.Fatalf("registration after the commit → %d, want 409: %s", ans.Status, ans.Body)
	}
	w.publish(commit.Randomness.Round)
	ans := <-answered
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d, want 200: %s", ans.Status, ans.Body)
	}
	got := decode[drawJSON](t, ans)
	drawn := a.drawnWith(eventID, w.beacon)
	if got.DrawLogID != drawn.DrawID || len(got.Winners) != 2 || got.Winners[0].ParticipantID != drawn.Winners[0].ParticipantID {
		t.Fatalf("answer %+v is not the stored result %+v", got, drawn)
	}
	a.verified(ownerA, drawn.DrawID)
	if ans := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 1}); errorOf(ans).Code != "ALREADY_DRAWN" {
		t.Fatalf("second draw → %d %s, want 409 ALREADY_DRAWN", ans.Status, ans.Body)
	}
}

// A round not in within DRAW_WAIT: 202 PENDING with the round and when it
// is due; a second draw is 409; verify is 409 DRAW_PENDING; the relay's
// leader completes it once the round is out; the Idempotency-Key's retry
// gets its 202 again and makes no second draw.
func TestDrandDrawPendingIsCompletedByTheLeader(t *testing.T) {
	w := newDrandWorld(t)
	a := newTestAppWith(t, appSetup{Draw: w.setup(20 * time.Millisecond)})
	eventID := drandCampaign(a, 5)
	a.run()

	drawWithKey := func() answer {
		req, err := a.request(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 2})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(api.IdempotencyHeader, "the-drand-draw")
		ans, err := a.send(req)
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	first := drawWithKey()
	if first.Status != http.StatusAccepted {
		t.Fatalf("draw → %d, want 202: %s", first.Status, first.Body)
	}
	p := decode[pendingJSON](t, first)
	commit := a.committed(eventID)
	if p.State != "PENDING" || p.DrawLogID != commit.DrawID || p.Round != commit.Randomness.Round || !p.ExpectedAt.Equal(w.beacon.TimeOf(p.Round)) {
		t.Fatalf("202 %+v, want PENDING for draw %s, round %d due %s", p, commit.DrawID, commit.Randomness.Round, w.beacon.TimeOf(commit.Randomness.Round))
	}
	if due := commit.CommittedAt.Add(5 * time.Second); w.beacon.TimeOf(p.Round).Before(due) {
		t.Fatalf("round %d is due %s, before the commit + DRAND_MARGIN (%s)", p.Round, w.beacon.TimeOf(p.Round), due)
	}
	if ans := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 1}); errorOf(ans).Code != "ALREADY_DRAWN" {
		t.Fatalf("second draw while pending → %d %s, want 409 ALREADY_DRAWN", ans.Status, ans.Body)
	}
	if ans := a.call(http.MethodGet, verifyPath(commit.DrawID), token(t, ownerA), nil); errorOf(ans).Code != "DRAW_PENDING" {
		t.Fatalf("verify while pending → %d %s, want 409 DRAW_PENDING", ans.Status, ans.Body)
	}

	w.publish(p.Round)
	drawn := a.drawnWith(eventID, w.beacon)
	a.verified(ownerA, drawn.DrawID)
	again := drawWithKey()
	if again.Status != http.StatusAccepted || again.Header.Get(api.ReplayedHeader) != "true" {
		t.Fatalf("retry with the key → %d (replayed %q), want its 202 again", again.Status, again.Header.Get(api.ReplayedHeader))
	}
	if ev := a.drawEvents(eventID); len(ev.Commits) != 1 || len(ev.Results) != 1 {
		t.Fatalf("%d commits, %d results after the retry, want 1 and 1", len(ev.Commits), len(ev.Results))
	}
}

// A round that fails verification (a forged signature, another chain on
// the relay) is refused: the draw stays pending, never drawn with local
// randomness, the refusal is counted; the true round completes it later.
func TestDrandRefusedRoundKeepsTheDrawPending(t *testing.T) {
	for _, fault := range []struct {
		name  string
		fault beacontest.Fault
	}{{"bad signature", beacontest.BadSignature}, {"wrong chain", beacontest.OtherChain}} {
		t.Run(fault.name, func(t *testing.T) {
			w := newDrandWorld(t)
			a := newTestAppWith(t, appSetup{Draw: w.setup(20 * time.Millisecond)})
			eventID := drandCampaign(a, 4)
			a.run()
			if ans := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 1}); ans.Status != http.StatusAccepted {
				t.Fatalf("draw → %d, want 202: %s", ans.Status, ans.Body)
			}
			commit := a.committed(eventID)
			w.beacon.SetFault(fault.fault)
			w.publish(commit.Randomness.Round)
			refusedAtLeast(t, a.metricsURL, 2) // the leader asked, was refused, and asked again
			if ev := a.drawEvents(eventID); len(ev.Results) != 0 {
				t.Fatalf("a refused round gave a result: %+v", ev.Results)
			}
			w.beacon.SetFault(beacontest.Healthy)
			a.drawnWith(eventID, w.beacon)
		})
	}
}

// The beacon down at the commit and while the round comes due: the commit
// names its round from the pinned chain info, the leader keeps retrying,
// and completes the draw once the beacon is back.
func TestDrandBeaconDownAtCommitCompletesLater(t *testing.T) {
	w := newDrandWorld(t)
	a := newTestAppWith(t, appSetup{Draw: w.setup(20 * time.Millisecond)})
	eventID := drandCampaign(a, 4)
	w.beacon.Down()
	a.run()
	if ans := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 2}); ans.Status != http.StatusAccepted {
		t.Fatalf("draw with the beacon down → %d, want 202: %s", ans.Status, ans.Body)
	}
	commit := a.committed(eventID)
	w.publish(commit.Randomness.Round)
	waitUntil(t, "the leader's failed fetch", func() error {
		if !strings.Contains(a.logs.String(), "drand round not fetched, retrying") {
			return errors.New("no retry logged yet")
		}
		return nil
	})
	if ev := a.drawEvents(eventID); len(ev.Results) != 0 {
		t.Fatalf("a result without the beacon: %+v", ev.Results)
	}
	w.beacon.Up(t)
	drawn := a.drawnWith(eventID, w.beacon)
	a.verified(ownerA, drawn.DrawID)
}

// Two instances on one store, the request of one waiting for the round
// and both relays looking for pending draws: one result, and the answer
// is that result.
func TestDrandTwoInstancesMakeOneResult(t *testing.T) {
	w := newDrandWorld(t)
	a := newTestAppWith(t, appSetup{Draw: w.setup(time.Minute)})
	b := newTestAppWith(t, appSetup{DatabaseURL: a.dbURL, Brokers: a.brokers, Topic: a.topic, Draw: w.setup(time.Minute)})
	eventID := drandCampaign(a, 8)
	a.run()
	b.run()
	answered := make(chan answer, 1)
	go func() {
		ans, err := b.try(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 3})
		if err != nil {
			t.Error(err)
		}
		answered <- ans
	}()
	commit := a.committed(eventID)
	w.publish(commit.Randomness.Round)
	ans := <-answered
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d, want 200: %s", ans.Status, ans.Body)
	}
	drawn := a.drawnWith(eventID, w.beacon) // exactly one result
	got := decode[drawJSON](t, ans)
	for i, winner := range got.Winners {
		if winner.ParticipantID != drawn.Winners[i].ParticipantID {
			t.Fatalf("answer's winner %d is %s, the stored one %s", i, winner.ParticipantID, drawn.Winners[i].ParticipantID)
		}
	}
}

// verify checks a drand draw's stored round against the chain: a signature
// that is not the committed round's (here the next round's, a valid one
// of the chain) does not verify, and neither does another randomness.
func TestDrandVerifyChecksTheStoredRound(t *testing.T) {
	w := newDrandWorld(t)
	a := newTestAppWith(t, appSetup{Draw: w.setup(20 * time.Millisecond)})
	eventID := drandCampaign(a, 4)
	a.run()
	if ans := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 1}); ans.Status != http.StatusAccepted {
		t.Fatalf("draw → %d, want 202: %s", ans.Status, ans.Body)
	}
	commit := a.committed(eventID)
	w.publish(commit.Randomness.Round + 1)
	drawn := a.drawnWith(eventID, w.beacon)
	a.verified(ownerA, drawn.DrawID)
	next := w.beacon.Signature(commit.Randomness.Round + 1)
	for _, tamper := range []struct{ field, value string }{
		{"signature", hex.EncodeToString(next)},
		{"randomness", hex.EncodeToString(w.beacon.Randomness(commit.Randomness.Round + 1))},
	} {
		_, err := a.pool.Exec(t.Context(), `UPDATE events SET data = jsonb_set(data, ARRAY['beacon', $1], to_jsonb($2::text))
			WHERE type = 'WinnersDrawn' AND stream_id = $3`, tamper.field, tamper.value, domain.DrawStream(eventID))
		if err != nil {
			t.Fatal(err)
		}
		ans := a.call(http.MethodGet, verifyPath(drawn.DrawID), token(t, ownerA), nil)
		if ans.Status != http.StatusOK || !strings.Contains(string(ans.Body), `"verified":false`) {
			t.Fatalf("verify with another round's %s → %d %s, want not verified", tamper.field, ans.Status, ans.Body)
		}
	}
}

// A refused round reaching the request within DRAW_WAIT ends the wait at
// once: 202 PENDING, counted, no result (no local fallback in the request
// either).
func TestDrandRefusedWithinDrawWaitAnswersPending(t *testing.T) {
	w := newDrandWorld(t)
	a := newTestAppWith(t, appSetup{Draw: w.setup(time.Minute)})
	eventID := drandCampaign(a, 3)
	w.beacon.SetFault(beacontest.BadSignature)
	answered := make(chan answer, 1)
	go func() {
		ans, err := a.try(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 1})
		if err != nil {
			t.Error(err)
		}
		answered <- ans
	}()
	commit := a.committed(eventID)
	w.publish(commit.Randomness.Round)
	ans := <-answered
	if p := decode[pendingJSON](t, ans); ans.Status != http.StatusAccepted || p.Round != commit.Randomness.Round {
		t.Fatalf("draw with a forged round → %d %s, want 202 PENDING for round %d", ans.Status, ans.Body, commit.Randomness.Round)
	}
	refusedAtLeast(t, a.metricsURL, 1)
	if ev := a.drawEvents(eventID); len(ev.Results) != 0 {
		t.Fatalf("a forged round gave a result: %+v", ev.Results)
	}
}
