package app

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/projections"
)

func deliveryPath(eventID uuid.UUID, entry string) string {
	return "/api/v1/events/" + eventID.String() + "/winners/" + entry + "/delivery"
}

type deliveryAnswer struct {
	RecipientName string    `json:"recipientName"`
	Postcode      string    `json:"postcode"`
	Address1      string    `json:"address1"`
	Address2      string    `json:"address2"`
	ClaimedAt     time.Time `json:"claimedAt"`
}

type ownerWinners struct {
	Winners []struct {
		EntryNumber string `json:"entryNumber"`
		Claim       struct {
			State     string     `json:"state"`
			ClaimedAt *time.Time `json:"claimedAt"`
			Deadline  time.Time  `json:"deadline"`
		} `json:"claim"`
	} `json:"winners"`
}

// claimStates is the owner's winners list as "entry state claimedAt deadline" lines.
func (a *testApp) claimStates(eventID uuid.UUID, tok string) map[string]string {
	a.t.Helper()
	list := decode[ownerWinners](a.t, a.call(http.MethodGet, "/api/v1/events/"+eventID.String()+"/winners", tok, nil))
	out := map[string]string{}
	for _, w := range list.Winners {
		at := "-"
		if w.Claim.ClaimedAt != nil {
			at = w.Claim.ClaimedAt.UTC().Format(time.RFC3339)
		}
		out[w.EntryNumber] = w.Claim.State + " " + at + " " + w.Claim.Deadline.UTC().Format(time.RFC3339)
	}
	return out
}

// The owner's side of a claim end to end, on a clock moved past announceAt
// and the deadline: 배송 정보 before the claim is 409 NOT_CLAIMED, another
// owner 403, an alternate 404; the claimed winner's details come back as
// claimed and the reveal is recorded (DeliveryRevealed) and listed with
// the contact reveals by kind; the winners list says CLAIMED / OPEN, then
// CLOSED past the deadline; analytics and their stream count the claim; nothing of the
// delivery leaks; once erased the reveal is refused; and a rebuild of
// every read model (--all --verify) gives the same answers.
func TestRevealDelivery(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	a := newTestAppWith(t, appSetup{Clock: clock.now})
	// owner tokens are checked against the service's clock
	tok := func(owner string) string {
		t.Helper()
		s, err := api.IssueToken(testJWTSecret, owner, time.Hour, clock.now())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stop := a.run()
	defer stop()
	w := openNow()
	eventID := a.openCampaign(ownerA, w)
	byEntry := map[string]registered{}
	for i := range 4 {
		r := a.registerCustomer(eventID, aCustomer(i), "")
		byEntry[r.EntryNumber] = r
	}
	ans := a.call(http.MethodPost, drawPath(eventID), tok(ownerA), map[string]any{"winnerCount": 2, "alternateCount": 1})
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", ans.Status, ans.Body)
	}
	d := decode[struct {
		Winners    []drawnEntryJSON `json:"winners"`
		Alternates []drawnEntryJSON `json:"alternates"`
	}](t, ans)
	winner, waiting, alternate := byEntry[d.Winners[0].EntryNumber], byEntry[d.Winners[1].EntryNumber], byEntry[d.Alternates[0].EntryNumber]
	reveal := func(owner string, r registered) answer {
		return a.call(http.MethodPost, deliveryPath(eventID, r.EntryNumber), tok(owner), nil)
	}
	expect := func(name string, ans answer, status int, code string) {
		t.Helper()
		if ans.Status != status || errorOf(ans).Code != code {
			t.Errorf("%s → %d %s, want %d %s", name, ans.Status, ans.Body, status, code)
		}
	}
	expect("before the claim", reveal(ownerA, winner), http.StatusConflict, "NOT_CLAIMED")
	stream := a.openStream(eventID) // before the clock moves: its token is checked once, at connect
	if f := stream.figures(t); f.Claimed != 0 {
		t.Fatalf("the stream's first figures claim %d before any claim", f.Claimed)
	}

	clock.set(w.announceAt)
	if ans := a.call(http.MethodPost, claimPath(eventID), "", deliveryFor(winner)); ans.Status != http.StatusCreated {
		t.Fatalf("the winner's claim → %d %s", ans.Status, ans.Body)
	}
	expect("another owner", reveal(ownerB, winner), http.StatusForbidden, "FORBIDDEN")
	expect("an alternate", reveal(ownerA, alternate), http.StatusNotFound, "WINNER_NOT_FOUND")
	expect("a winner who did not claim", reveal(ownerA, waiting), http.StatusConflict, "NOT_CLAIMED")
	if n := a.eventsOfType("DeliveryRevealed", eventID); n != 0 {
		t.Fatalf("refused reveals recorded %d DeliveryRevealed", n)
	}

	got := reveal(ownerA, winner)
	want := deliveryAnswer{"홍길순", "06236", "서울특별시 강남구 수령로 777", "비밀동 919호", w.announceAt.UTC()}
	if got.Status != http.StatusOK || decode[deliveryAnswer](t, got) != want {
		t.Fatalf("the claimed winner's delivery → %d %s, want 200 %+v", got.Status, got.Body, want)
	}
	if ans := a.call(http.MethodPost, "/api/v1/events/"+eventID.String()+"/winners/"+winner.EntryNumber+"/contact",
		tok(ownerA), nil); ans.Status != http.StatusOK {
		t.Fatalf("the contact reveal → %d %s", ans.Status, ans.Body)
	}
	if n := a.eventsOfType("DeliveryRevealed", eventID); n != 1 {
		t.Fatalf("DeliveryRevealed events = %d, want 1", n)
	}
	list := decode[struct {
		Reveals []struct{ Kind, EntryNumber, RevealedBy string } `json:"reveals"`
	}](t, a.call(http.MethodGet, "/api/v1/events/"+eventID.String()+"/contact-reveals", tok(ownerA), nil))
	if got, want := fmt.Sprint(list.Reveals), fmt.Sprintf("[{DELIVERY %[1]s %[2]s} {CONTACT %[1]s %[2]s}]", winner.EntryNumber, ownerA); got != want {
		t.Errorf("reveals = %s, want %s", got, want)
	}

	deadline := w.announceAt.Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	claimedAt := w.announceAt.UTC().Format(time.RFC3339)
	waitUntil(t, "the claim in the winners list and analytics", func() error {
		states := a.claimStates(eventID, tok(ownerA))
		if states[winner.EntryNumber] != "CLAIMED "+claimedAt+" "+deadline || states[waiting.EntryNumber] != "OPEN - "+deadline {
			return fmt.Errorf("claims %v", states)
		}
		if an := a.analytics(eventID, tok(ownerA)); an.Claimed != 1 || an.Winners != 2 {
			return fmt.Errorf("analytics claimed %d of %d", an.Claimed, an.Winners)
		}
		return nil
	})
	for stream.last.Claimed != 1 { // the same figures, live over SSE
		stream.figures(t)
	}
	clock.set(w.announceAt.Add(7 * 24 * time.Hour))
	if states := a.claimStates(eventID, tok(ownerA)); states[waiting.EntryNumber] != "CLOSED - "+deadline ||
		states[winner.EntryNumber] != "CLAIMED "+claimedAt+" "+deadline {
		t.Errorf("past the deadline: claims %v, want the unclaimed CLOSED and the claimed CLAIMED", states)
	}

	a.noDeliveryAnywhere(t, 1)
	if ans := a.call(http.MethodDelete, "/api/v1/events/"+eventID.String()+"/participants/"+winner.EntryNumber,
		tok(ownerA), nil); ans.Status != http.StatusNoContent {
		t.Fatalf("the winner's erasure → %d %s", ans.Status, ans.Body)
	}
	expect("an erased winner", reveal(ownerA, winner), http.StatusConflict, "PARTICIPANT_ERASED")
	if n := a.eventsOfType("DeliveryRevealed", eventID); n != 1 {
		t.Fatalf("DeliveryRevealed events after the refused reveal = %d, want 1", n)
	}
	a.noDeliveryAnywhere(t, 1)

	a.sameAnswersAfterRebuild(t, eventID, tok(ownerA))

	// The command itself: identical, then a live table altered is found
	// (exit 1) and a rebuild puts it right.
	if out, err := a.rebuildCommand(t, "--all", "--verify", "--dry-run"); err != nil || strings.Contains(out, "the rebuilt tables differ") {
		t.Fatalf("projections rebuild --all --verify --dry-run: %v\n%s", err, out)
	}
	if _, err := a.pool.Exec(t.Context(), `UPDATE analytics SET claimed = 0 WHERE event_id = $1`, eventID); err != nil {
		t.Fatal(err)
	}
	if out, err := a.rebuildCommand(t, "analytics", "--verify"); err == nil || !strings.Contains(out, "the rebuilt tables differ") {
		t.Fatalf("a rebuild over an altered analytics row: %v, want exit 1 saying it differs\n%s", err, out)
	}
	if an := a.analytics(eventID, tok(ownerA)); an.Claimed != 1 {
		t.Errorf("analytics after the rebuild swapped in: claimed %d, want 1", an.Claimed)
	}
	if out, err := a.rebuildCommand(t, "--all", "--verify"); err != nil {
		t.Fatalf("projections rebuild --all --verify after the repair: %v\n%s", err, out)
	}
}

// rebuildCommand runs `participation projections rebuild ARGS` on the
// test's database and returns its output.
func (a *testApp) rebuildCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), participationBinary(t), append([]string{"projections", "rebuild"}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+a.dbURL, "PII_KEY="+string(testPIIKey), "JWT_SECRET="+string(testJWTSecret),
		"KAFKA_BROKERS="+strings.Join(a.brokers, ","), "PUBLIC_BASE_URL=http://localhost")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// analytics is the owner's analytics answer.
func (a *testApp) analytics(eventID uuid.UUID, tok string) struct{ Winners, Claimed int64 } {
	a.t.Helper()
	return decode[struct{ Winners, Claimed int64 }](a.t,
		a.call(http.MethodGet, "/api/v1/events/"+eventID.String()+"/analytics", tok, nil))
}

// sameAnswersAfterRebuild checks that the live read models equal a rebuild
// from the store (projections rebuild --all --verify's comparison), then
// swaps a rebuild of every read model in and asks the owner's and the
// public read routes again: the same answers.
func (a *testApp) sameAnswersAfterRebuild(t *testing.T, eventID uuid.UUID, tok string) {
	t.Helper()
	assertReadModelsMatchRebuild(t, a.pool)
	base := "/api/v1/events/" + eventID.String()
	paths := []string{base + "/winners", base + "/analytics", base + "/contact-reveals", base + "/participants", base + "/draw-logs",
		base + "/result", "/api/v1/events"}
	answers := func() map[string]string {
		out := map[string]string{}
		for _, p := range paths {
			ans := a.call(http.MethodGet, p, tok, nil)
			out[p] = fmt.Sprint(ans.Status, " ", string(ans.Body))
		}
		return out
	}
	before := answers()
	report, err := projections.Rebuild(t.Context(), a.pool, projections.RebuildOptions{Verify: true, Publicize: testPublicize(t, a.pool)})
	switch {
	case err != nil:
		t.Fatalf("rebuild --all --verify: %v", err)
	case report.Differs() || len(report.Lagging) > 0 || !report.Swapped:
		t.Fatalf("rebuild --all --verify: differs %v, lagging %v, swapped %v", report.Differs(), report.Lagging, report.Swapped)
	}
	after := answers()
	for _, p := range paths {
		if before[p] != after[p] {
			t.Errorf("GET %s after the rebuild:\n%s\nbefore:\n%s", p, after[p], before[p])
		}
	}
}
