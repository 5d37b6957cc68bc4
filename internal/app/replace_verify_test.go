package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/verifypublic"
)

// certificateAndVerifyAgree checks TestReplaceWinner's replacements in the
// public certificate (ranks, reason, no one named), the owner's verify and
// verify-public over the service.
func (f replaceFixture) certificateAndVerifyAgree(t *testing.T) {
	t.Helper()
	cert := decode[domain.DrawCertificate](t, f.a.call(http.MethodGet, certificatePath(f.eventID), "", nil))
	if cert.DrawCertificateResult == nil {
		t.Fatal("the certificate has no result after announceAt")
	}
	var got [][2]int
	var reasons []string
	for _, r := range cert.Replacements {
		got, reasons = append(got, [2]int{r.WinnerRank, r.AlternateRank}), append(reasons, r.Reason)
	}
	if !slices.Equal(got, [][2]int{{1, 1}, {2, 2}}) || !slices.Equal(reasons, []string{"UNCLAIMED", "DECLINED"}) {
		t.Errorf("certificate replacements %+v, want rank 1 by alternate 1 (UNCLAIMED), rank 2 by alternate 2 (DECLINED)", cert.Replacements)
	}
	f.verifies(t, true)
}

// verifies checks the owner's verify and verify-public against ok.
func (f replaceFixture) verifies(t *testing.T, ok bool) {
	t.Helper()
	v := decode[verificationJSON](t, f.a.call(http.MethodGet, verifyPath(f.drawLog), f.token(t, ownerA), nil))
	if v.Verified != ok || slices.Contains(v.Mismatches, "replacements") == ok {
		t.Errorf("verify: verified %v, mismatches %v; want verified %v", v.Verified, v.Mismatches, ok)
	}
	err := verifypublic.Verify(t.Context(), verifypublic.URLSource(f.a.client, f.a.url+certificatePath(f.eventID)))
	if ok && err != nil {
		t.Errorf("verify-public: %v", err)
	}
	if !ok && !errors.Is(err, verifypublic.ErrMismatch) {
		t.Errorf("verify-public: %v, want a mismatch", err)
	}
}

// An alternate erased before the replacement is passed over, and verify
// accepts exactly that; a replacement appended behind the service's back
// that takes a promoted alternate again is a mismatch for verify and for
// verify-public.
func TestReplaceWinnerVerify(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	f.clock.set(f.w.announceAt)
	if ans := f.a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{"eventId": f.eventID,
		"phone": f.alt[0].customer.phone, "entryNumber": f.alt[0].EntryNumber}); ans.Status != http.StatusNoContent {
		t.Fatalf("alternate 1's erase → %d %s", ans.Status, ans.Body)
	}
	ans := f.replace(t, f.win[0].EntryNumber, "INELIGIBLE")
	expectOK(t, "replace with alternate 1 erased", ans)
	if got := decode[replacementJSON](t, ans); got.Winner.EntryNumber != f.alt[1].EntryNumber || got.Winner.AlternateRank != 2 {
		t.Fatalf("replacement %s, want alternate 2 (alternate 1 is erased)", ans.Body)
	}
	f.verifies(t, true)

	tampered := domain.WinnerReplaced{DrawID: f.drawLog, EventID: f.eventID, Rank: 2,
		Replaced: domain.ReplacedWinner{ParticipantID: f.win[1].ParticipantID, EntryNumber: f.win[1].EntryNumber},
		By:       domain.PromotedEntry{ParticipantID: f.alt[1].ParticipantID, EntryNumber: f.alt[1].EntryNumber, AlternateRank: 2},
		Reason:   domain.ReplaceDeclined, ClaimDeadline: f.w.announceAt, ReplacedAt: f.w.announceAt, ReplacedBy: ownerA}
	data, err := json.Marshal(tampered)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.New(f.a.pool).Append(t.Context(), domain.DrawStream(f.eventID), eventstore.Any, eventstore.EventData{
		ID: uuid.New(), PartitionKey: f.eventID.String(), Type: domain.TypeWinnerReplaced, SchemaVersion: 1, Data: data,
	}); err != nil {
		t.Fatal(err)
	}
	f.verifies(t, false)
}

// Concurrent replacements of one winner: one is recorded, the others decide
// again on it (ALREADY_REPLACED); two winners replaced at once take two
// different alternates, in order.
func TestReplaceWinnerConcurrent(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	f.clock.set(f.w.announceAt)
	type result struct {
		entry string
		ans   answer
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for i := range 6 {
		entry := f.win[i%2].EntryNumber
		wg.Go(func() {
			ans, err := f.a.try(http.MethodPost, replacePath(f.eventID, entry), f.token(t, ownerA), map[string]any{"reason": "DECLINED"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			results = append(results, result{entry, ans})
			mu.Unlock()
		})
	}
	wg.Wait()
	won := map[string]int{}
	var promoted []int
	for _, r := range results {
		switch {
		case r.ans.Status == http.StatusOK:
			won[r.entry]++
			promoted = append(promoted, decode[replacementJSON](t, r.ans).Winner.AlternateRank)
		case r.ans.Status != http.StatusConflict || errorOf(r.ans).Code != "ALREADY_REPLACED":
			t.Errorf("replace %s → %d %s, want 200 or 409 ALREADY_REPLACED", r.entry, r.ans.Status, r.ans.Body)
		}
	}
	slices.Sort(promoted)
	if won[f.win[0].EntryNumber] != 1 || won[f.win[1].EntryNumber] != 1 || !slices.Equal(promoted, []int{1, 2}) {
		t.Errorf("recorded %v, alternates promoted %v; want one replacement of each winner, by alternates 1 and 2", won, promoted)
	}
	if n := f.a.count(`SELECT count(*) FROM events WHERE stream_id = $1 AND type = $2`, domain.DrawStream(f.eventID), domain.TypeWinnerReplaced); n != 2 {
		t.Errorf("%d WinnerReplaced stored, want 2", n)
	}
	f.verifies(t, true)
}
