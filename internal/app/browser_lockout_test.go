package app

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// The erase page of an entry locked by five wrong phones says so in Korean,
// with the minutes left, even for the right phone; the form stays usable.
func TestBrowserEraseLockedEntry(t *testing.T) {
	app := newTestApp(t)
	tab := newTab(t, newBrowser(t))
	eventID := app.openCampaign(ownerA, openNow())
	reg := app.register(eventID, "박서연", "010-9753-1086")
	for range 5 {
		ans := app.call(http.MethodPost, "/api/v1/participations/erase", "",
			map[string]any{"eventId": eventID.String(), "phone": "010-1111-2222", "entryNumber": reg.EntryNumber})
		if ans.Status != http.StatusNotFound {
			t.Fatalf("wrong phone → %d, want 404", ans.Status)
		}
	}
	run(t, tab, "erase a locked entry",
		chromedp.Navigate(app.url+"/p/"+eventID.String()+"/erase"),
		chromedp.WaitVisible(chromedp.CSS("#erase-form")),
		chromedp.SendKeys(chromedp.CSS("#phone"), "010-9753-1086"),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), reg.EntryNumber),
		chromedp.Click(chromedp.CSS("#erase-submit")))
	waitText(t, tab, "#erase-notice", "잘못된 시도가 많아 1시간 동안 잠겼습니다. 60분 후 다시 시도해주세요.")
	if eval[bool](t, tab, `document.querySelector("#erase-submit").disabled`) {
		t.Error("the submit button stays disabled")
	}
	if n := app.eventsOfType("ParticipantErased", eventID); n != 0 {
		t.Errorf("%d ParticipantErased events, want 0 (locked)", n)
	}
}
