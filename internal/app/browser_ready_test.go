package app

import (
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserEraseFormWaitsForItsScript: on a slow network the erase
// page's HTML is in before its script. The form is not offered until the
// script handles it — sent before, it reloaded the page and lost what was
// typed (TestBrowserEdgeCases' erase step, under load: no 일치하는 참여
// 정보가 없습니다) — and once shown, a request goes through the script.
func TestBrowserEraseFormWaitsForItsScript(t *testing.T) {
	app := newTestApp(t)
	browserCtx := newBrowser(t)
	id := app.openCampaign(ownerA, openNow())
	reg := app.register(id, "박서연", "010-9753-1086")

	tab := newTab(t, browserCtx)
	held := holdAnswers(t, tab, "*/assets/erase.js")
	// Not chromedp.Navigate: it waits for the load, which the held script holds.
	if _, err := chromedp.Call(tab, page.Navigate, page.NavigateParams{URL: app.url + "/p/" + id.String() + "/erase"}); err != nil {
		t.Fatalf("open the erase page: %v", err)
	}
	release := held(1)
	waitJS(t, tab, "the page's HTML", `!!document.querySelector("#back")`)
	if eval[bool](t, tab, `!!document.querySelector("#erase-form").offsetParent`) {
		t.Error("the erase form is offered before its script can send it")
	}
	release()

	run(t, tab, "a wrong entry number",
		chromedp.WaitVisible(chromedp.CSS("#erase-form")),
		chromedp.SendKeys(chromedp.CSS("#phone"), "010-9753-1086"),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), unusedEntryNumber(reg.EntryNumber)),
		chromedp.Click(chromedp.CSS("#erase-submit")))
	waitText(t, tab, "#erase-notice", "일치하는 참여 정보가 없습니다")
	if got := eval[string](t, tab, `location.search`); got != "" {
		t.Errorf("the form was sent by the browser (the address has %q), not by the page", got)
	}
}
