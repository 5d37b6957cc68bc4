package app

import (
	"net/http"
	"testing"

	"github.com/shopevents/participation/api"
)

// A registration's Idempotency-Key costs no commit of its own: its claim
// and its answer commit in the registration's transaction, the 201 with
// the event, and a duplicate's 409 with the batch that answered it.
func TestRegistrationKeyCommitsWithItsRegistration(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	body := []byte(`{"eventId":"` + eventID.String() + `","name":"박지민","phone":"010-7777-4321","entryPath":"KAKAO","privacyConsent":true}`)
	first := a.sendWithKey("commit-with-the-event", body)
	if first.Status != http.StatusCreated {
		t.Fatalf("register → %d: %s", first.Status, first.Body)
	}
	reg := decode[registrationJSON](t, first)
	var sameTx bool
	var status int
	if err := a.pool.QueryRow(t.Context(), `SELECT k.xmin = e.tx_id::xid, k.status FROM idempotency_keys k
		JOIN events e ON e.type = 'ParticipantRegistered' AND e.data->>'participantId' = k.subject::text
		WHERE k.key = 'commit-with-the-event' AND k.subject = $1`, reg.ParticipantID).Scan(&sameTx, &status); err != nil {
		t.Fatal(err)
	}
	if !sameTx || status != http.StatusCreated {
		t.Errorf("the key's answer (%d) committed in the registration's transaction: %v", status, sameTx)
	}

	dup := a.sendWithKey("the-same-phone-again", body)
	if dup.Status != http.StatusConflict || errorOf(dup).Code != "ALREADY_PARTICIPATED" {
		t.Fatalf("the same phone → %d %s, want 409 ALREADY_PARTICIPATED", dup.Status, dup.Body)
	}
	again := a.sendWithKey("the-same-phone-again", body)
	if again.Status != http.StatusConflict || again.Header.Get(api.ReplayedHeader) != "true" || string(again.Body) != string(dup.Body) {
		t.Fatalf("retry → %d replayed %q %s, want the first 409 again", again.Status, again.Header.Get(api.ReplayedHeader), again.Body)
	}
}
