package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shopevents/participation/api"
)

// A cross-site page can post text/plain without a preflight: the wired
// service refuses it with 415 before anything is stored, takes JSON with a
// charset, and needs no Content-Type on an empty POST.
func TestNonJSONBodiesAreRefusedEndToEnd(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	body, err := json.Marshal(registrationBody(eventID, "김철수", "010-7777-0001", "KAKAO"))
	if err != nil {
		t.Fatal(err)
	}
	before := a.eventCount()
	for _, contentType := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", ""} {
		req, err := a.request(http.MethodPost, participationsPath, "", string(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		ans, err := a.send(req)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Status != http.StatusUnsupportedMediaType || errorOf(ans).Code != "UNSUPPORTED_MEDIA_TYPE" {
			t.Errorf("Content-Type %q → %d %s, want 415 UNSUPPORTED_MEDIA_TYPE", contentType, ans.Status, ans.Body)
		}
	}
	if after := a.eventCount(); after != before {
		t.Fatalf("the refused registrations stored %d events", after-before)
	}

	// nothing was written: the same phone registers, as JSON with a charset
	req, err := a.request(http.MethodPost, participationsPath, "", string(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	ans, err := a.send(req)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Status != http.StatusCreated {
		t.Fatalf("JSON with a charset → %d %s, want 201", ans.Status, ans.Body)
	}
	entry := decode[registrationJSON](t, ans).EntryNumber

	// empty POSTs (no body, no Content-Type): a visit and a contact reveal
	tok := token(t, ownerA)
	if ans := a.call(http.MethodPost, visitPath(eventID, entry), tok, nil); ans.Status != http.StatusOK {
		t.Errorf("empty visit → %d %s, want 200", ans.Status, ans.Body)
	}
	reveal := "/api/v1/events/" + eventID.String() + "/winners/" + entry + "/contact"
	if ans := a.call(http.MethodPost, reveal, tok, nil); ans.Status != http.StatusNotFound {
		t.Errorf("empty contact reveal of a non-winner → %d %s, want 404 WINNER_NOT_FOUND", ans.Status, ans.Body)
	}
}

// Every answer says nosniff; the owner's data is never cached; the pages
// keep their own caching.
func TestSecurityHeadersEndToEnd(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	tok := token(t, ownerA)
	campaign := "/api/v1/events/" + eventID.String()
	cases := []struct {
		path, token  string
		cacheControl string // "": not checked
	}{
		{"/healthz", "", ""},
		{campaign + "/public", "", ""},
		{"/owner/", "", "no-cache"},
		{"/p/" + eventID.String(), "", "no-cache"},
		{campaign + "/participants", "", "no-store"}, // a 401
		{campaign + "/participants", tok, "no-store"},
		{campaign + "/participants.csv", tok, "no-store"},
		{campaign + "/qr.png", tok, "no-store"},
		{"/api/v1/events", tok, "no-store"},
	}
	for _, tc := range cases {
		req, err := a.request(http.MethodGet, tc.path, tc.token, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s → %d: X-Content-Type-Options %q, want nosniff", tc.path, resp.StatusCode, got)
		}
		if got := strings.Join(resp.Header.Values("Cache-Control"), ", "); tc.cacheControl != "" && got != tc.cacheControl {
			t.Errorf("GET %s → %d: Cache-Control %q, want %q", tc.path, resp.StatusCode, got, tc.cacheControl)
		}
	}
}

// The wired service limits each owner (the other end-to-end tests turn the
// limit off); a CSV export weighs 10.
func TestOwnerRateLimitEndToEnd(t *testing.T) {
	t.Parallel()
	a := newTestAppWith(t, appSetup{OwnerRateLimit: api.RateLimit{PerSecond: 0.001, Burst: 12}})
	eventID := a.openCampaign(ownerA, openNow()) // 1 token
	list := "/api/v1/events/" + eventID.String() + "/participants"
	tokA, tokB := token(t, ownerA), token(t, ownerB)
	var statuses []int
	for _, path := range []string{list + ".csv", list, list} { // 10 + 1 + 1 of the 11 left
		statuses = append(statuses, a.call(http.MethodGet, path, tokA, nil).Status)
	}
	if want := []int{200, 200, 429}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Fatalf("statuses = %v, want %v", statuses, want)
	}
	if ans := a.call(http.MethodGet, "/api/v1/events", tokB, nil); ans.Status != http.StatusOK {
		t.Errorf("another owner → %d %s, want 200 (a bucket of its own)", ans.Status, ans.Body)
	}
}
