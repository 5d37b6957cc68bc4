package app

import (
	"net/http"
	"strconv"
	"testing"
)

// The customer's erase behind the self-service lockout, over HTTP, on two
// instances of one database: 20 wrong phones at once for one entry are five
// 404s and fifteen 429 ENTRY_LOCKED with Retry-After (every answer checked
// against the spec); then the right phone is 429 on either instance; and an
// entry number nobody holds answers exactly as the known one, byte for byte.
func TestEraseLockoutAcrossInstances(t *testing.T) {
	t.Parallel()
	first := newTestApp(t)
	second := newTestAppWith(t, appSetup{DatabaseURL: first.dbURL, Brokers: first.brokers, Topic: first.topic})
	eventID := first.openCampaign(ownerA, openNow())
	alice := first.registerCustomer(eventID, aCustomer(0), "")
	wrong := aCustomer(9).phone
	erase := func(app *testApp, phone, entryNumber string) (answer, error) {
		return app.try(http.MethodPost, "/api/v1/participations/erase", "",
			map[string]any{"eventId": eventID.String(), "phone": phone, "entryNumber": entryNumber})
	}
	answers := atOnceAcross(t, 20, first, second, func(app *testApp) (answer, error) {
		return erase(app, wrong, alice.EntryNumber)
	})
	counts := map[int]int{}
	for _, ans := range answers {
		counts[ans.Status]++
		if ans.Status != http.StatusTooManyRequests {
			continue
		}
		if code := errorOf(ans).Code; code != "ENTRY_LOCKED" {
			t.Errorf("429 code %s, want ENTRY_LOCKED", code)
		}
		if s, err := strconv.Atoi(ans.Header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
			t.Errorf("Retry-After %q, want 1..3600 seconds", ans.Header.Get("Retry-After"))
		}
	}
	if counts[http.StatusNotFound] != 5 || counts[http.StatusTooManyRequests] != 15 {
		t.Fatalf("answers by status %v, want 5 × 404 and 15 × 429", counts)
	}
	for _, app := range []*testApp{first, second} {
		ans := app.call(http.MethodPost, "/api/v1/participations/erase", "",
			map[string]any{"eventId": eventID.String(), "phone": alice.customer.phone, "entryNumber": alice.EntryNumber})
		if ans.Status != http.StatusTooManyRequests || errorOf(ans).Code != "ENTRY_LOCKED" {
			t.Fatalf("right phone on a locked entry → %d %s, want 429 ENTRY_LOCKED", ans.Status, ans.Body)
		}
	}

	// Known and unknown entry numbers, wrong phones one by one: the same answers.
	bob := first.registerCustomer(eventID, aCustomer(1), "")
	unknown := unusedEntryNumber(bob.EntryNumber)
	for i := range 6 {
		known, err := erase(first, wrong, bob.EntryNumber)
		if err != nil {
			t.Fatal(err)
		}
		other, err := erase(first, wrong, unknown)
		if err != nil {
			t.Fatal(err)
		}
		if known.Status != other.Status || string(known.Body) != string(other.Body) ||
			!sameRetryAfter(known.Header.Get("Retry-After"), other.Header.Get("Retry-After")) {
			t.Fatalf("attempt %d: known entry %d %s (Retry-After %q), unknown entry %d %s (Retry-After %q)", i+1,
				known.Status, known.Body, known.Header.Get("Retry-After"), other.Status, other.Body, other.Header.Get("Retry-After"))
		}
		if want := []int{404, 404, 404, 404, 404, 429}[i]; known.Status != want {
			t.Fatalf("attempt %d → %d, want %d", i+1, known.Status, want)
		}
	}
}

// sameRetryAfter: both absent, or seconds that differ by the second at most
// that may pass between the two answers.
func sameRetryAfter(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	return errA == nil && errB == nil && x-y <= 1 && y-x <= 1
}
