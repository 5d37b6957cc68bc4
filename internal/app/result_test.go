package app

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

type resultJSON struct {
	Announced     *bool      `json:"announced"`
	AnnounceAt    time.Time  `json:"announceAt"`
	ClaimDeadline *time.Time `json:"claimDeadline"`
	Drawn         *bool      `json:"drawn"`
	Winners       []struct {
		Rank        int    `json:"rank"`
		Name        string `json:"name"`
		EntryNumber string `json:"entryNumber"`
		State       string `json:"state"`
		Reason      string `json:"reason"`
	} `json:"winners"`
}

func resultPath(eventID uuid.UUID) string { return "/api/v1/events/" + eventID.String() + "/result" }

// The public announcement with the API's clock moved: before announceAt only
// the date; from then the winners masked as a published list (김*수,
// BGJM-****), computed where the registration is opened and carried by the
// winners read model, never an alternate, nor any raw name, phone or entry
// number; a campaign announced without a draw says drawn: false; an erased
// winner keeps the rank without a name.
func TestResultAnnouncement(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	a := newTestAppWith(t, appSetup{Clock: clock.now})
	a.run()
	w := openNow()
	drawn, undrawn := a.openCampaign(ownerA, w), a.openCampaign(ownerA, w)
	var regs []registered
	for i := range 6 {
		regs = append(regs, a.registerCustomer(drawn, aCustomer(i), ""))
	}
	ans := a.call(http.MethodPost, drawPath(drawn), token(t, ownerA), map[string]any{"winnerCount": 2, "alternateCount": 2})
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", ans.Status, ans.Body)
	}
	d := decode[struct {
		Winners    []drawnEntryJSON `json:"winners"`
		Alternates []drawnEntryJSON `json:"alternates"`
	}](t, ans)
	byEntry := map[string]registered{}
	for _, r := range regs {
		byEntry[r.EntryNumber] = r
	}

	before := a.call(http.MethodGet, resultPath(drawn), "", nil)
	if string(before.Body) != fmt.Sprintf(`{"announced":false,"announceAt":%q}`, w.announceAt.UTC().Format(time.RFC3339)) {
		t.Fatalf("before announceAt: %s, want only announced false and the date", before.Body)
	}
	if cc := before.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}

	clock.set(w.announceAt)
	type listed struct {
		Rank               int
		Name, Entry, State string
	}
	var want []listed
	for _, e := range d.Winners {
		c := byEntry[e.EntryNumber].customer
		want = append(want, listed{e.Rank, domain.MaskListedName(c.trimmedName()), e.EntryNumber[:4] + "-****", "WINNER"})
	}
	got := func() ([]listed, resultJSON, answer) {
		ans := a.call(http.MethodGet, resultPath(drawn), "", nil)
		r := decode[resultJSON](t, ans)
		var out []listed
		for _, w := range r.Winners {
			out = append(out, listed{w.Rank, w.Name, w.EntryNumber, w.State})
		}
		return out, r, ans
	}
	waitUntil(t, "the announced winners", func() error {
		rows, _, _ := got()
		if diff := cmp.Diff(want, rows); diff != "" {
			return fmt.Errorf("winners (-want +got):\n%s", diff)
		}
		return nil
	})
	_, r, ans := got()
	if r.Announced == nil || !*r.Announced || r.Drawn == nil || !*r.Drawn || r.ClaimDeadline == nil ||
		!r.ClaimDeadline.Equal(w.announceAt.Add(7*24*time.Hour)) {
		t.Errorf("announced result %s", ans.Body)
	}
	for _, c := range customersOf(regs) {
		for _, s := range c.secrets() {
			if bytes.Contains(ans.Body, []byte(s)) {
				t.Errorf("the result holds %q: %s", s, ans.Body)
			}
		}
	}
	for _, e := range slices.Concat(d.Winners, d.Alternates) {
		if bytes.Contains(ans.Body, []byte(e.EntryNumber)) {
			t.Errorf("the result holds the entry number %s: %s", e.EntryNumber, ans.Body)
		}
	}

	if none := a.call(http.MethodGet, resultPath(undrawn), "", nil); string(none.Body) != fmt.Sprintf(
		`{"announced":true,"announceAt":%q,"claimDeadline":%q,"drawn":false,"winners":[]}`,
		w.announceAt.UTC().Format(time.RFC3339), w.announceAt.Add(7*24*time.Hour).UTC().Format(time.RFC3339)) {
		t.Errorf("announced without a draw: %s", none.Body)
	}
	if unknown := a.call(http.MethodGet, resultPath(uuid.New()), "", nil); unknown.Status != http.StatusNotFound {
		t.Errorf("unknown campaign → %d, want 404", unknown.Status)
	}

	first := byEntry[d.Winners[0].EntryNumber]
	if ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{"eventId": drawn.String(),
		"phone": first.customer.phone, "entryNumber": first.EntryNumber}); ans.Status != http.StatusNoContent {
		t.Fatalf("erase → %d: %s", ans.Status, ans.Body)
	}
	want[0].Name = ""
	waitUntil(t, "the erased winner without a name", func() error {
		rows, _, _ := got()
		if diff := cmp.Diff(want, rows); diff != "" {
			return fmt.Errorf("winners (-want +got):\n%s", diff)
		}
		return nil
	})
}
