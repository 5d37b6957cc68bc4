package app

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/shopevents/participation/domain"
)

type checkAnswer struct {
	Outcome string `json:"outcome"`
	Rank    int    `json:"rank"`
	Reason  string `json:"reason"`
	Claim   *struct {
		State    string    `json:"state"`
		Deadline time.Time `json:"deadline"`
	} `json:"claim"`
	Proof *checkProof `json:"proof"`
}

type checkProof struct {
	DrawID uuid.UUID `json:"drawId"`
	domain.DrawProof
}

// verifyCheckProof checks a 당첨 확인 proof with the library against the
// entry's own leaf and the certificate's root.
func verifyCheckProof(t *testing.T, p *checkProof, entryNumber, root string) {
	t.Helper()
	if p == nil {
		t.Fatalf("%s: no proof", entryNumber)
	}
	path := make([][]byte, len(p.AuditPath))
	for i, h := range p.AuditPath {
		path[i], _ = hex.DecodeString(h)
	}
	wantRoot, _ := hex.DecodeString(root)
	leaf := domain.DrawLeafHash(domain.AppendDrawLeaf(nil, p.DrawID, []byte(entryNumber), p.Weight))
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.LeafIndex), uint64(p.TreeSize), leaf, path, wantRoot); err != nil || p.Root != root {
		t.Errorf("%s: proof %+v does not verify against root %s: %v", entryNumber, p, root, err)
	}
}

// 당첨 확인 with the clock moved: 409 NOT_ANNOUNCED before announceAt and
// while nothing is drawn; then WON with its open claim window, ALTERNATE
// with its rank, NOT_WON; a wrong phone answers as an unknown entry; the
// window is CLOSED from the deadline; an erased winner is 404. Every
// outcome comes with the entry's inclusion proof against the certificate's root.
func TestResultCheck(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	a := newTestAppWith(t, appSetup{Clock: clock.now})
	w := openNow()
	drawn, undrawn := a.openCampaign(ownerA, w), a.openCampaign(ownerA, w)
	byEntry := map[string]registered{}
	for i := range 5 {
		r := a.registerCustomer(drawn, aCustomer(i), "")
		byEntry[r.EntryNumber] = r
	}
	ans := a.call(http.MethodPost, drawPath(drawn), token(t, ownerA), map[string]any{"winnerCount": 1, "alternateCount": 1})
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", ans.Status, ans.Body)
	}
	d := decode[struct {
		Winners    []drawnEntryJSON `json:"winners"`
		Alternates []drawnEntryJSON `json:"alternates"`
	}](t, ans)
	winner, alternate := byEntry[d.Winners[0].EntryNumber], byEntry[d.Alternates[0].EntryNumber]
	var loser registered
	for e, r := range byEntry {
		if e != winner.EntryNumber && e != alternate.EntryNumber {
			loser = r
		}
	}
	check := func(eventID uuid.UUID, phone, entry string) answer {
		return a.call(http.MethodPost, "/api/v1/events/"+eventID.String()+"/result/check", "",
			map[string]any{"phone": phone, "entryNumber": entry})
	}
	if ans := check(drawn, winner.customer.phone, winner.EntryNumber); ans.Status != http.StatusConflict || errorOf(ans).Code != "NOT_ANNOUNCED" {
		t.Fatalf("before announceAt → %d %s, want 409 NOT_ANNOUNCED", ans.Status, ans.Body)
	}

	clock.set(w.announceAt)
	deadline := w.announceAt.Add(7 * 24 * time.Hour)
	if ans := check(undrawn, winner.customer.phone, winner.EntryNumber); ans.Status != http.StatusConflict || errorOf(ans).Code != "NOT_ANNOUNCED" {
		t.Errorf("announced without a draw → %d %s, want 409 NOT_ANNOUNCED", ans.Status, ans.Body)
	}
	cert := decode[domain.DrawCertificate](t, a.call(http.MethodGet, certificatePath(drawn), "", nil))
	for _, tc := range []struct {
		name string
		r    registered
		want string
	}{
		{"winner", winner, `{"outcome":"WON","rank":1,"claim":{"state":"OPEN","deadline":"` + deadline.UTC().Format(time.RFC3339) + `"},"proof":`},
		{"alternate", alternate, `{"outcome":"ALTERNATE","rank":1,"proof":`},
		{"not_won", loser, `{"outcome":"NOT_WON","proof":`},
	} {
		ans := check(drawn, tc.r.customer.phone, tc.r.EntryNumber)
		if ans.Status != http.StatusOK || !strings.HasPrefix(string(ans.Body), tc.want) {
			t.Errorf("%s → %d %s, want 200 %s…", tc.name, ans.Status, ans.Body, tc.want)
			continue
		}
		got := decode[checkAnswer](t, ans)
		verifyCheckProof(t, got.Proof, tc.r.EntryNumber, cert.CandidatesRoot)
		if got.Proof.DrawID != cert.DrawID || got.Proof.TreeSize != 5 || got.Proof.Weight != 1 {
			t.Errorf("%s: proof %+v, want draw %s, 5 leaves, weight 1", tc.name, got.Proof, cert.DrawID)
		}
	}
	wrong := check(drawn, aCustomer(99).phone, winner.EntryNumber)
	unknown := check(drawn, winner.customer.phone, unusedEntryNumber(winner.EntryNumber))
	if wrong.Status != http.StatusNotFound || errorOf(wrong).Code != "PARTICIPANT_NOT_FOUND" || !cmp.Equal(wrong.Body, unknown.Body) {
		t.Errorf("wrong phone → %d %s; unknown entry → %d %s; want the same 404", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
	}
	// Behind the erase's lockout: five wrong phones lock the entry, for the right phone too.
	for range 4 {
		check(drawn, aCustomer(98).phone, loser.EntryNumber)
	}
	if ans := check(drawn, loser.customer.phone, loser.EntryNumber); ans.Status != http.StatusOK {
		t.Errorf("the right phone after four wrong → %d %s, want 200", ans.Status, ans.Body)
	}
	check(drawn, aCustomer(98).phone, loser.EntryNumber)
	if ans := check(drawn, loser.customer.phone, loser.EntryNumber); ans.Status != http.StatusTooManyRequests || errorOf(ans).Code != "ENTRY_LOCKED" {
		t.Errorf("the right phone after five wrong → %d %s, want 429 ENTRY_LOCKED", ans.Status, ans.Body)
	}

	clock.set(deadline)
	if got := decode[checkAnswer](t, check(drawn, winner.customer.phone, winner.EntryNumber)); got.Claim == nil || got.Claim.State != "CLOSED" {
		t.Errorf("at the deadline: %+v, want the claim CLOSED", got)
	}
	if ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{"eventId": drawn.String(),
		"phone": winner.customer.phone, "entryNumber": winner.EntryNumber}); ans.Status != http.StatusNoContent {
		t.Fatalf("erase → %d: %s", ans.Status, ans.Body)
	}
	if ans := check(drawn, winner.customer.phone, winner.EntryNumber); ans.Status != http.StatusNotFound || !cmp.Equal(ans.Body, unknown.Body) {
		t.Errorf("erased winner → %d %s, want the 404 of an unknown entry", ans.Status, ans.Body)
	}
}
