package app

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopevents/participation/api"
)

// The owner's 교체 on a 360 px phone, with the clock past the claim
// deadline: the winners tab shows the alternates in order and a 교체 button
// per winner; cancelling its dialog (당첨자를 교체하시겠습니까?) records
// nothing; confirming with a reason promotes alternate 1, and the tables say
// so, also after a reload from the read model. The result page lists the
// replaced winner with the reason, and the replaced winner's 당첨 확인 says
// 당첨이 취소되었습니다, the waiting alternate's 예비 당첨자 2번입니다 and the
// entry not drawn 아쉽게도 당첨되지 않았습니다. Any script error fails it.
func TestBrowserReplaceWinner(t *testing.T) {
	clock := &movableClock{}
	clock.set(time.Now())
	app := newTestAppWith(t, appSetup{Clock: clock.now})
	app.run()
	w := openNow()
	eventID := app.openCampaign(ownerA, w)
	phones := map[string]string{}
	for i, name := range []string{"김철수", "이영희", "박민준", "최지우"} {
		phone := phoneNumber(8100 + i)
		phones[app.register(eventID, name, phone).EntryNumber] = phone
	}
	d := app.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1, "alternateCount": 2})
	winner := d.Winners[0].EntryNumber
	var alts []drawnEntryJSON
	waitUntil(t, "the alternates in the read model", func() error {
		alts = decode[struct {
			Alternates []drawnEntryJSON `json:"alternates"`
		}](t, app.call(http.MethodGet, "/api/v1/events/"+eventID.String()+"/winners", token(t, ownerA), nil)).Alternates
		if len(alts) != 2 {
			return fmt.Errorf("%d alternates, want 2", len(alts))
		}
		return nil
	})
	clock.set(w.announceAt.Add(8 * 24 * time.Hour)) // past the winner's claim deadline
	tok, err := api.IssueToken(testJWTSecret, ownerA, time.Hour, clock.now())
	if err != nil {
		t.Fatal(err)
	}

	tab := newTab(t, newBrowser(t))
	owner := func(what string) {
		run(t, tab, what,
			chromedp.EmulateViewport(360, 800),
			chromedp.Navigate(app.url+"/owner/#token="+tok),
			chromedp.WaitVisible(chromedp.CSS("#open-form")),
			chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+eventID.String()+`"`))
		waitJS(t, tab, "the winner's row", `!!document.querySelector('#winner-table tr[data-entry="' + `+jsString(winner)+` + '"]')`)
	}
	owner("the owner's winners tab")
	waitJS(t, tab, "the alternates in order", `[...document.querySelectorAll("#alternate-table tbody tr")].map((r) => r.dataset.entry).join() === `+
		jsString(alts[0].EntryNumber+","+alts[1].EntryNumber))
	replaceButton := `#winner-table button[aria-label="` + winner + ` 교체"]`
	run(t, tab, "교체", chromedp.Click(chromedp.CSS(replaceButton)))
	waitJS(t, tab, "the dialog", `document.querySelector("#replace-dialog").open`)
	waitText(t, tab, "#replace-dialog", "당첨자를 교체하시겠습니까?")
	run(t, tab, "cancel", chromedp.Click(chromedp.CSS("#replace-cancel")))
	waitJS(t, tab, "the dialog closed", `!document.querySelector("#replace-dialog").open`)
	if n := app.eventsOfType("WinnerReplaced", eventID); n != 0 {
		t.Fatalf("%d replacements after cancel", n)
	}

	run(t, tab, "교체, confirmed",
		chromedp.Click(chromedp.CSS(replaceButton)),
		chromedp.WaitVisible(chromedp.CSS("#replace-confirm")),
		chromedp.SetValue(chromedp.CSS("#replace-reason"), "UNCLAIMED"),
		chromedp.Click(chromedp.CSS("#replace-confirm")))
	waitText(t, tab, "#draw-notice", "1위 당첨자를 교체했습니다: 예비 1번 (응모번호 "+alts[0].EntryNumber+")")
	tables := func(what string) {
		t.Helper()
		waitJS(t, tab, what, `(() => {
			const rows = [...document.querySelectorAll("#winner-table tbody tr")].map((r) => r.dataset.state + ":" + r.dataset.entry).join();
			const alt = document.querySelector('#alternate-table tr[data-entry="' + `+jsString(alts[0].EntryNumber)+` + '"]');
			return rows === `+jsString("REPLACED:"+winner+",WINNER:"+alts[0].EntryNumber)+` && alt && alt.textContent.includes("1위 당첨 (교체)");
		})()`)
	}
	tables("the tables after 교체")
	waitText(t, tab, "#winner-table", "교체됨 (수령 기한 내 미신청)")
	screenshot(t, tab, "#draw", "owner-replaced")
	if n := app.eventsOfType("WinnerReplaced", eventID); n != 1 {
		t.Fatalf("%d replacements recorded, want 1", n)
	}

	waitUntil(t, "the replacement in the read model", func() error {
		if r := decode[resultJSON](t, app.call(http.MethodGet, resultPath(eventID), "", nil)); len(r.Winners) != 2 {
			return errors.New("not yet")
		}
		return nil
	})
	owner("the winners tab again, from the read model")
	tables("the tables from the read model")

	run(t, tab, "the result page",
		chromedp.Navigate(app.url+"/p/"+eventID.String()+"/result"),
		chromedp.WaitVisible(chromedp.CSS("#check-form")))
	waitText(t, tab, `#winners li[data-state="REPLACED"]`, "교체됨 (수령 기한 내 미신청)")
	waitText(t, tab, `#winners li[data-state="WINNER"]`, alts[0].EntryNumber[:4]+"-****")
	run(t, tab, "당첨 확인 of the replaced winner",
		chromedp.SendKeys(chromedp.CSS("#phone"), phones[winner]),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), winner),
		chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#outcome-title", "당첨이 취소되었습니다")
	waitText(t, tab, "#outcome-claim", "사유: 수령 기한 내 미신청")
	if eval[bool](t, tab, `!document.querySelector("#claim-form").hidden`) {
		t.Error("the claim form shows to a replaced winner")
	}

	// the two other outcomes: the alternate still waiting, and the entry
	// that was neither drawn nor an alternate
	loser := ""
	for entry := range phones {
		if entry != winner && entry != alts[0].EntryNumber && entry != alts[1].EntryNumber {
			loser = entry
		}
	}
	for _, tc := range []struct{ what, entry, want string }{
		{"당첨 확인 of the alternate still waiting", alts[1].EntryNumber, "예비 당첨자 2번입니다"},
		{"당첨 확인 of an entry not drawn", loser, "아쉽게도 당첨되지 않았습니다"},
	} {
		eval[bool](t, tab, `(document.querySelector("#phone").value = "", document.querySelector("#entryNumber").value = "", true)`)
		run(t, tab, tc.what,
			chromedp.SendKeys(chromedp.CSS("#phone"), phones[tc.entry]),
			chromedp.SendKeys(chromedp.CSS("#entryNumber"), tc.entry),
			chromedp.Click(chromedp.CSS("#check-submit")))
		waitText(t, tab, "#outcome-title", tc.want)
		if eval[bool](t, tab, `!document.querySelector("#claim-form").hidden`) {
			t.Errorf("%s: the claim form shows", tc.what)
		}
	}
}
