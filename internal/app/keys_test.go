package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

// sendWithKey sends a registration's exact bytes with an Idempotency-Key.
func (a *testApp) sendWithKey(key string, body []byte) answer {
	a.t.Helper()
	req, err := a.request(http.MethodPost, participationsPath, "", body)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set(api.IdempotencyHeader, key)
	ans, err := a.send(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return ans
}

// A dump holds neither a hash of a registration's body that a dictionary of
// names and phones would find, nor a campaign's participant-id key in the
// clear; the registration's idempotency answer goes with its erasure, and a
// retry after it runs as new: 409, since an erased phone stays registered.
func TestIdempotencyAnswersAndCampaignKeysInADump(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	keys, err := privacy.NewKeys(testPIIKey)
	if err != nil {
		t.Fatal(err)
	}
	eventID := a.openCampaign(ownerA, openNow())
	body := []byte(`{"eventId":"` + eventID.String() + `","name":"박지민","phone":"010-7777-1234","entryPath":"KAKAO","privacyConsent":true}`)
	const key = "dump-me-registration"
	first := a.sendWithKey(key, body)
	if first.Status != http.StatusCreated {
		t.Fatalf("register → %d: %s", first.Status, first.Body)
	}
	if again := a.sendWithKey(key, body); again.Status != http.StatusCreated || again.Header.Get(api.ReplayedHeader) != "true" {
		t.Fatalf("retry → %d replayed %q, want the first 201 again", again.Status, again.Header.Get(api.ReplayedHeader))
	}
	reg := decode[registrationJSON](t, first)

	var wrapped []byte
	if err := a.pool.QueryRow(t.Context(), `SELECT wrapped FROM campaign_keys WHERE event_id = $1`, eventID).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	campaignKey, err := keys.OpenCampaignKey(eventID, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, keys.IdempotencyKey())
	mac.Write([]byte(participationsPath + "\x00"))
	mac.Write(body)
	plain, bodyOnly := sha256.Sum256(append([]byte(participationsPath+"\x00"), body...)), sha256.Sum256(body)

	dump := a.pgDump()
	for what, v := range map[string][]byte{"sha256(path‖0‖body)": plain[:], "sha256(body)": bodyOnly[:], "the raw campaign key": campaignKey} {
		if strings.Contains(dump, hex.EncodeToString(v)) {
			t.Errorf("the dump holds %s", what)
		}
	}
	// bytea is dumped as hex: what is stored is found that way, so the
	// search above can find what it looks for.
	for what, v := range map[string][]byte{"the HMAC fingerprint": mac.Sum(nil), "the wrapped campaign key": wrapped} {
		if !strings.Contains(dump, hex.EncodeToString(v)) {
			t.Errorf("the dump lacks %s: the search above proves nothing", what)
		}
	}

	ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{
		"eventId": eventID.String(), "phone": "010-7777-1234", "entryNumber": reg.EntryNumber})
	if ans.Status != http.StatusNoContent {
		t.Fatalf("erase → %d: %s", ans.Status, ans.Body)
	}
	if n := a.count(`SELECT count(*) FROM idempotency_keys WHERE key = $1 OR subject = $2`, key, reg.ParticipantID); n != 0 {
		t.Fatalf("%d idempotency rows of the erased participant left", n)
	}
	retry := a.sendWithKey(key, body)
	if retry.Status != http.StatusConflict || errorOf(retry).Code != "ALREADY_PARTICIPATED" || retry.Header.Get(api.ReplayedHeader) != "" {
		t.Fatalf("retry after the erasure → %d %s (replayed %q), want 409 ALREADY_PARTICIPATED run anew",
			retry.Status, retry.Body, retry.Header.Get(api.ReplayedHeader))
	}
}

// Expired answers go on a timer, without any request: the API role sweeps
// as it starts and then every IdempotencySweepEvery; the sweep measures
// expiry by its clock.
func TestIdempotencyAnswersAreSweptOnATimer(t *testing.T) {
	t.Parallel()
	a := newTestAppWith(t, appSetup{Roles: Roles{API: true}})
	insert := func(key, age string) {
		t.Helper()
		if _, err := a.pool.Exec(t.Context(), `INSERT INTO idempotency_keys (scope, key, fingerprint, status, body, created_at, lease_until, hmac)
			VALUES ('scope', $1, '\x00', 201, '{}', now() - $2::interval, now(), true)`, key, age); err != nil {
			t.Fatal(err)
		}
	}
	left := func(key string) func() error {
		return func() error {
			if n := a.count(`SELECT count(*) FROM idempotency_keys WHERE key = $1`, key); n != 0 {
				return fmt.Errorf("%d rows of %s", n, key)
			}
			return nil
		}
	}
	insert("expired", "25 hours")
	insert("fresh", "1 hour")
	a.run()
	waitUntil(t, "the API role's sweep at start", left("expired"))
	if n := a.count(`SELECT count(*) FROM idempotency_keys WHERE key = 'fresh'`); n != 1 {
		t.Fatalf("fresh rows = %d, want 1", n)
	}

	// A clock a day ahead: the fresh row has expired by it, and the loop's
	// next tick deletes it and one written after the loop started.
	ahead, err := eventstore.NewIdempotencyKeys(a.pool, eventstore.IdempotencyConfig{FingerprintKey: make([]byte, 32),
		Clock: func() time.Time { return time.Now().Add(25 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	sweeper := newIdempotencySweeper(ahead, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { sweeper.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "the sweep by the clock a day ahead", left("fresh"))
	insert("written-later", "1 second")
	waitUntil(t, "a later tick", left("written-later"))
}
