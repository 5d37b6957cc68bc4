package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func claimPath(eventID uuid.UUID) string { return "/api/v1/events/" + eventID.String() + "/claims" }

// deliveryFor is a claim body whose delivery details appear nowhere else.
func deliveryFor(r registered) map[string]any {
	return map[string]any{
		"phone": r.customer.phone, "entryNumber": r.EntryNumber, "recipientName": "홍길순",
		"postcode": "06236", "address1": "서울특별시 강남구 수령로 777", "address2": "비밀동 919호",
		"deliveryConsent": true,
	}
}

var deliverySecrets = []string{"홍길순", "수령로 777", "비밀동 919호", "06236"}

// The claim over HTTP with the clock moved: 409 before announceAt, 400s
// with field errors, the erase's 404 for an alternate and a non-winner,
// 201 for the winner (당첨 확인 then says CLAIMED), 409 ALREADY_CLAIMED
// twice and CLAIM_CLOSED from the deadline. The delivery is in no dump
// and no Kafka message, before and after the winner's erasure, which
// shreds it with the participant's key.
func TestClaimPrize(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	a := newTestAppWith(t, appSetup{Clock: clock.now})
	stop := a.run()
	defer stop()
	w := openNow()
	eventID := a.openCampaign(ownerA, w)
	byEntry := map[string]registered{}
	for i := range 5 {
		r := a.registerCustomer(eventID, aCustomer(i), "")
		byEntry[r.EntryNumber] = r
	}
	ans := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 2, "alternateCount": 1})
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", ans.Status, ans.Body)
	}
	d := decode[struct {
		Winners    []drawnEntryJSON `json:"winners"`
		Alternates []drawnEntryJSON `json:"alternates"`
	}](t, ans)
	winner, late, alternate := byEntry[d.Winners[0].EntryNumber], byEntry[d.Winners[1].EntryNumber], byEntry[d.Alternates[0].EntryNumber]
	var loser registered
	for e, r := range byEntry {
		if e != winner.EntryNumber && e != late.EntryNumber && e != alternate.EntryNumber {
			loser = r
		}
	}
	claim := func(body map[string]any) answer { return a.call(http.MethodPost, claimPath(eventID), "", body) }
	with := func(r registered, k string, v any) map[string]any {
		b := deliveryFor(r)
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	expect := func(name string, ans answer, status int, code string) {
		t.Helper()
		if ans.Status != status || (code != "" && errorOf(ans).Code != code) {
			t.Errorf("%s → %d %s, want %d %s", name, ans.Status, ans.Body, status, code)
		}
	}
	expect("before announceAt", claim(deliveryFor(winner)), http.StatusConflict, "NOT_ANNOUNCED")

	clock.set(w.announceAt)
	for _, tc := range []struct {
		name, field string
		body        map[string]any
	}{
		{"consent false", "deliveryConsent", with(winner, "deliveryConsent", false)},
		{"consent missing", "deliveryConsent", with(winner, "deliveryConsent", nil)},
		{"postcode of 4", "postcode", with(winner, "postcode", "0623")},
		{"recipient with digits", "recipientName", with(winner, "recipientName", "홍길순1")},
		{"address1 empty", "address1", with(winner, "address1", "")},
		{"address2 of 201", "address2", with(winner, "address2", strings.Repeat("가", 201))},
		{"address1 with a bidi control", "address1", with(winner, "address1", "서울\u202E777")},
	} {
		ans := claim(tc.body)
		if ans.Status != http.StatusBadRequest || len(errorOf(ans).Errors) != 1 || errorOf(ans).Errors[0].Field != tc.field {
			t.Errorf("%s → %d %s, want 400 on %s", tc.name, ans.Status, ans.Body, tc.field)
		}
	}
	expect("an alternate", claim(deliveryFor(alternate)), http.StatusNotFound, "PARTICIPANT_NOT_FOUND")
	expect("a non-winner", claim(deliveryFor(loser)), http.StatusNotFound, "PARTICIPANT_NOT_FOUND")
	expect("a wrong phone", claim(with(winner, "phone", aCustomer(99).phone)), http.StatusNotFound, "PARTICIPANT_NOT_FOUND")
	ok := claim(deliveryFor(winner))
	if want := `{"state":"CLAIMED","claimedAt":"` + w.announceAt.UTC().Format(time.RFC3339Nano) + `"}`; ok.Status != http.StatusCreated || string(ok.Body) != want {
		t.Fatalf("the winner's claim → %d %s, want 201 %s", ok.Status, ok.Body, want)
	}
	check := a.call(http.MethodPost, "/api/v1/events/"+eventID.String()+"/result/check", "",
		map[string]any{"phone": winner.customer.phone, "entryNumber": winner.EntryNumber})
	if c := decode[checkAnswer](t, check); c.Claim == nil || c.Claim.State != "CLAIMED" {
		t.Errorf("당첨 확인 after the claim → %s, want claim state CLAIMED", check.Body)
	}
	expect("twice", claim(deliveryFor(winner)), http.StatusConflict, "ALREADY_CLAIMED")
	clock.set(w.announceAt.Add(7 * 24 * time.Hour))
	expect("at the deadline", claim(deliveryFor(late)), http.StatusConflict, "CLAIM_CLOSED")

	a.noDeliveryAnywhere(t, 1)
	if ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{
		"eventId": eventID, "phone": winner.customer.phone, "entryNumber": winner.EntryNumber}); ans.Status != http.StatusNoContent {
		t.Fatalf("the winner's erase → %d %s", ans.Status, ans.Body)
	}
	if n := a.count(`SELECT count(*) FROM pii_keys WHERE participant_id = $1`, winner.ParticipantID); n != 0 {
		t.Fatalf("the erased winner's data key is still there (%d)", n)
	}
	a.noDeliveryAnywhere(t, 1)
}

// noDeliveryAnywhere waits for the relay to publish everything, then checks
// that neither a dump nor the topic holds the delivery in clear, and that
// the topic's claims carry no delivery at all.
func (a *testApp) noDeliveryAnywhere(t *testing.T, wantClaims int) {
	t.Helper()
	waitUntil(t, "the relay published everything", func() error {
		if a.count(`SELECT count(*) FROM checkpoints WHERE position >= $1`, a.head()) == 0 {
			return errors.New("not yet")
		}
		return nil
	})
	dump := a.pgDump()
	if !strings.Contains(dump, "PrizeClaimed") {
		t.Fatalf("the dump holds no claim (%d bytes)", len(dump))
	}
	for _, s := range deliverySecrets[:3] { // a postcode of 5 digits may occur by chance
		if strings.Contains(dump, s) {
			t.Errorf("the dump holds %q in clear", s)
		}
	}
	claims := 0
	for _, r := range wholeTopic(t, a.brokers, a.topic) {
		for _, s := range deliverySecrets[:3] {
			if strings.Contains(string(r.value), s) {
				t.Errorf("a %s message holds %q: %s", r.headers["event_type"], s, r.value)
			}
		}
		if r.headers["event_type"] == "PrizeClaimed" {
			claims++
			var keys map[string]any
			_ = json.Unmarshal(r.value, &keys)
			if _, has := keys["delivery"]; has || len(keys) != 3 {
				t.Errorf("PrizeClaimed message = %s, want participantId, eventId, claimedAt only", r.value)
			}
		}
	}
	if claims != wantClaims {
		t.Errorf("PrizeClaimed messages = %d, want %d", claims, wantClaims)
	}
}
