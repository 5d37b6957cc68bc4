package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// TestBrowserSlowAnswersKeepTheDrawButton: the share links and the QR
// code answer after the owner has the draw form in front of them (a slow
// network; a loaded server). Their arrival moves nothing below them: the
// 추첨하기 button stays where the owner aimed, and a click there opens the
// confirm dialog. (The button moving under chromedp's click, between
// finding the button and pressing the mouse, was the draw step's flake.)
func TestBrowserSlowAnswersKeepTheDrawButton(t *testing.T) {
	app := newTestApp(t)
	app.run()
	browserCtx := newBrowser(t)
	id := app.openCampaign(ownerA, openNow())
	app.register(id, "참가자", phoneNumber(1))

	tab := newTab(t, browserCtx)
	held := holdAnswers(t, tab, "*/api/v1/events/*/share-links", "*/api/v1/events/*/qr.png")
	run(t, tab, "owner on the campaign",
		chromedp.Navigate(app.url+"/owner/#token="+token(t, ownerA)),
		chromedp.WaitVisible(chromedp.CSS("#open-form")),
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+id.String()+`"`),
		chromedp.WaitVisible(chromedp.CSS("#draw-open")),
		chromedp.ScrollIntoView(chromedp.CSS("#draw-open")))
	release := held(2)
	const where = `(() => { const r = document.querySelector("#draw-open").getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2, r.top + scrollY]; })()`
	before := eval[[]float64](t, tab, where)

	release()
	waitJS(t, tab, "the share links", `(() => { const i = document.querySelector("#share-STORE_QR"); return !!i && i.value !== ""; })()`)
	waitJS(t, tab, "the QR code", `(() => { const i = document.querySelector("#store-qr img"); return !!i && i.complete && i.naturalWidth > 100; })()`)
	if after := eval[[]float64](t, tab, where); after[2] != before[2] || after[1] != before[1] {
		t.Errorf("the draw button moved from %v to %v (x, y in the window, y in the page) when the share links and the QR code came", before, after)
	}
	run(t, tab, "click where the button was", chromedp.MouseClickXY(before[0], before[1]))
	waitJS(t, tab, "the confirm dialog", `document.querySelector("#draw-dialog").open`)
}

// holdAnswers keeps the tab's answers to the requests matching the
// patterns from the page until released. held(n) waits for n of them and
// returns the function that lets them through.
func holdAnswers(t *testing.T, tab context.Context, patterns ...string) (held func(n int) (release func())) {
	t.Helper()
	paused := make(chan fetch.RequestID, 16)
	if err := chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e.RequestID
		}
	}); err != nil {
		t.Fatal(err)
	}
	var ps []*fetch.RequestPattern
	for _, p := range patterns {
		ps = append(ps, &fetch.RequestPattern{URLPattern: p, RequestStage: fetch.RequestStageResponse})
	}
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: ps}); err != nil {
		t.Fatalf("hold %v: %v", patterns, err)
	}
	return func(n int) func() {
		t.Helper()
		var ids []fetch.RequestID
		for len(ids) < n {
			select {
			case id := <-paused:
				ids = append(ids, id)
			case <-time.After(browserWait):
				t.Fatalf("%d of %d answers held", len(ids), n)
			}
		}
		return func() {
			t.Helper()
			for _, id := range ids {
				if _, err := chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}); err != nil {
					t.Fatalf("release an answer: %v", err)
				}
			}
		}
	}
}
