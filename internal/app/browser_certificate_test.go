package app

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopevents/participation/domain"
)

// TestBrowserDrawCertificate opens /p/{eventId}/draw on a 360 px phone after
// a draw's announceAt: it shows the commitment (the certificate's root) and
// the picks; an entrant's entry number is found among the leaves by the
// hash the page computes, and a wrong one is not; the page's RFC 6962 proof
// check accepts a proof built by the domain and refuses a tampered one. No
// script error, no CSP violation.
func TestBrowserDrawCertificate(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	now := time.Now().Truncate(time.Second)
	announceAt := now.Add(6 * time.Second)
	eventID := a.openCampaign(ownerA, window{now.Add(-time.Hour), announceAt, announceAt})
	regs := make([]registrationJSON, 5)
	for i := range regs {
		regs[i] = a.register(eventID, "응모자 "+string(rune('가'+i)), phoneNumber(8000+i))
	}
	a.visit(eventID, regs[1].EntryNumber, "")
	a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 2, "alternateCount": 1, "visitBonus": true})
	browserCtx := newBrowser(t) // while announceAt comes
	waitUntil(t, "announceAt", func() error {
		if time.Now().Before(announceAt) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	cert := decode[domain.DrawCertificate](t, a.call(http.MethodGet, certificatePath(eventID), "", nil))
	leavesAns := a.call(http.MethodGet, certificatePath(eventID)+"/leaves", "", nil)
	var hashes [][]byte
	var weights []uint32
	sc := bufio.NewScanner(bytes.NewReader(leavesAns.Body))
	for sc.Scan() {
		var l domain.DrawLeafLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		h, _ := hex.DecodeString(l.LeafHash)
		hashes, weights = append(hashes, h), append(weights, l.Weight)
	}

	tab := newTab(t, browserCtx)
	run(t, tab, "certificate page",
		chromedp.EmulateViewport(360, 800, chromedp.EmulateScale(2)),
		chromedp.Navigate(fmt.Sprintf("%s/p/%s/draw", a.url, eventID)),
		chromedp.WaitVisible(chromedp.CSS("#commitment")))
	waitText(t, tab, "#root", cert.CandidatesRoot)
	waitText(t, tab, "#candidate-count", "5명")
	waitText(t, tab, "#randomness-text", "운영자")
	waitText(t, tab, "#seed", cert.Seed)
	if n := eval[int](t, tab, `document.querySelectorAll("#pick-rows tr").length`); n != 3 {
		t.Errorf("%d pick rows, want 2 winners and 1 alternate", n)
	}
	if !eval[bool](t, tab, `!!document.querySelector("label[for=check-entry]")`) {
		t.Error("the check's input has no <label>")
	}

	// the visitor's own leaf (weight 2), found by the page's own hashing
	run(t, tab, "check a real entry",
		chromedp.SendKeys(chromedp.CSS("#check-entry"), regs[1].EntryNumber),
		chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#check-notice", "내 응모가 추첨에 포함되었습니다")
	waitText(t, tab, "#check-notice", "가중치 2")
	screenshot(t, tab, "main", "draw-certificate")
	run(t, tab, "check a wrong entry",
		chromedp.SetValue(chromedp.CSS("#check-entry"), unusedEntryNumber(regs[0].EntryNumber)),
		chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#check-notice", "찾지 못했습니다")

	// the browser's proof check, against proofs from the domain
	for i := range hashes {
		proof, err := domain.DrawInclusionProof(hashes, weights, i)
		if err != nil {
			t.Fatal(err)
		}
		good, _ := json.Marshal(proof)
		proof.AuditPath = append([]string(nil), proof.AuditPath...)
		proof.AuditPath[0] = strings.Repeat("0", 64)
		bad, _ := json.Marshal(proof)
		expr := fmt.Sprintf(`window.__proof = undefined; import("/assets/merkle.js").then(async (m) => {
			const leaf = m.unhex(%q);
			window.__proof = [await m.verifyInclusion(leaf, %s, %q), await m.verifyInclusion(leaf, %s, %q)];
		}); true`, fmt.Sprintf("%x", hashes[i]), good, cert.CandidatesRoot, bad, cert.CandidatesRoot)
		eval[bool](t, tab, expr)
		waitJS(t, tab, "the proof check", `Array.isArray(window.__proof)`)
		if got := eval[[]bool](t, tab, `window.__proof`); len(got) != 2 || !got[0] || got[1] {
			t.Errorf("leaf %d: the page's check of the good and the tampered proof = %v, want [true false]", i, got)
		}
	}
}
