package app

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopevents/participation/api"
)

// The owner's winners tab once announced: each winner's claim state and
// deadline (수령 신청 완료 / 신청 대기), 배송 정보 보기 only for the winner who
// claimed, revealing the delivery details in the row, recorded on the
// server (DeliveryRevealed) and listed with the contact reveal by kind;
// the analytics card counts the claim. Any script error fails it.
func TestBrowserOwnerDeliveryReveal(t *testing.T) {
	clock := &movableClock{}
	clock.set(time.Now())
	app := newTestAppWith(t, appSetup{Clock: clock.now})
	app.run()
	w := openNow()
	eventID := app.openCampaign(ownerA, w)
	first := app.registerCustomer(eventID, aCustomer(1), "")
	second := app.registerCustomer(eventID, aCustomer(2), "")
	d := app.drawWith(ownerA, eventID, map[string]any{"winnerCount": 2})
	claimed, waiting := first, second
	if d.Winners[0].EntryNumber != first.EntryNumber {
		claimed, waiting = second, first
	}
	clock.set(w.announceAt) // and kept: the owner's token is checked against it
	if ans := app.call(http.MethodPost, claimPath(eventID), "", deliveryFor(claimed)); ans.Status != http.StatusCreated {
		t.Fatalf("the claim → %d %s", ans.Status, ans.Body)
	}
	tok, err := api.IssueToken(testJWTSecret, ownerA, time.Hour, clock.now())
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the claim in the winners list and analytics", func() error {
		if s := app.claimStates(eventID, tok)[claimed.EntryNumber]; len(s) < 7 || s[:7] != "CLAIMED" {
			return fmt.Errorf("claim state %q", s)
		}
		if an := app.analytics(eventID, tok); an.Claimed != 1 {
			return fmt.Errorf("analytics claimed %d", an.Claimed)
		}
		return nil
	})

	tab := newTab(t, newBrowser(t))
	run(t, tab, "owner sign-in",
		chromedp.Navigate(app.url+"/owner/#token="+tok),
		chromedp.WaitVisible(chromedp.CSS("#open-form")))
	eval[bool](t, tab, `(location.hash = "#/events/`+eventID.String()+`", true)`)
	waitJS(t, tab, "two winners", `document.querySelectorAll("#winner-table tbody tr").length === 2`)
	row := func(entry string) string { return `#winner-table tr[data-entry="` + entry + `"]` }
	waitText(t, tab, row(claimed.EntryNumber)+" td.claim", "수령 신청 완료")
	waitText(t, tab, row(waiting.EntryNumber)+" td.claim", "신청 대기")
	deadline := w.announceAt.Add(7 * 24 * time.Hour).In(time.FixedZone("KST", 9*3600))
	waitText(t, tab, row(waiting.EntryNumber)+" td.claim", fmt.Sprintf("기한 %d년 %d월 %d일", deadline.Year(), deadline.Month(), deadline.Day()))
	if eval[bool](t, tab, `!!document.querySelector(`+jsString(row(waiting.EntryNumber)+" td.delivery button")+`)`) {
		t.Error("배송 정보 보기 is offered for a winner who has not claimed")
	}
	waitText(t, tab, "#claimed-count", "1")

	run(t, tab, "배송 정보 보기", chromedp.Click(chromedp.CSS(row(claimed.EntryNumber)+" td.delivery button")))
	waitText(t, tab, row(claimed.EntryNumber)+" td.delivery", "홍길순 (06236) 서울특별시 강남구 수령로 777 비밀동 919호")
	waitText(t, tab, `#contact-reveals li[data-kind="DELIVERY"]`, "배송 정보 · 응모번호 "+claimed.EntryNumber+" · "+ownerA)
	run(t, tab, "연락처 보기", chromedp.Click(chromedp.CSS(row(claimed.EntryNumber)+" td:nth-child(5) button")))
	waitText(t, tab, `#contact-reveals li[data-kind="CONTACT"]`, "연락처 · 응모번호 "+claimed.EntryNumber)
	if n := app.eventsOfType("DeliveryRevealed", eventID); n != 1 {
		t.Errorf("DeliveryRevealed events = %d, want 1", n)
	}
	screenshot(t, tab, "#winners", "owner-winners-claims")
}
