package app

import (
	"fmt"
	"net/http"
	"testing"
)

// An erased winner is marked in the owner's winners list (DESIGN: 삭제됨),
// with no name or phone, and 교체 with ERASED then promotes the first
// alternate; the other winner is not marked.
func TestReplaceErasedWinner(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	f.clock.set(f.w.announceAt)
	erased := f.win[0]
	if ans := f.a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{"eventId": f.eventID,
		"phone": erased.customer.phone, "entryNumber": erased.EntryNumber}); ans.Status != http.StatusNoContent {
		t.Fatalf("the winner's erase → %d %s", ans.Status, ans.Body)
	}
	type listed struct {
		EntryNumber string `json:"entryNumber"`
		Name        string `json:"name"`
		Phone       string `json:"phone"`
		Erased      bool   `json:"erased"`
	}
	waitUntil(t, "the erased winner marked in the owner's list", func() error {
		list := decode[struct {
			Winners []listed `json:"winners"`
		}](t, f.a.call(http.MethodGet, winnersPath(f.eventID), f.token(t, ownerA), nil))
		marked := map[string]listed{}
		for _, w := range list.Winners {
			marked[w.EntryNumber] = w
		}
		if w := marked[erased.EntryNumber]; !w.Erased || w.Name != "" || w.Phone != "" {
			return fmt.Errorf("erased winner listed as %+v", w)
		}
		if w := marked[f.win[1].EntryNumber]; w.Erased || w.Name == "" {
			return fmt.Errorf("the other winner listed as %+v", w)
		}
		return nil
	})
	ans := f.replace(t, erased.EntryNumber, "ERASED")
	expectOK(t, "replace the erased winner", ans)
	if got := decode[replacementJSON](t, ans); got.Winner.EntryNumber != f.alt[0].EntryNumber {
		t.Errorf("replacement %s, want alternate 1", ans.Body)
	}
}
