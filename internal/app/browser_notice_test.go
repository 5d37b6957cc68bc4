package app

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserListLoadKeepsTheActionsMessage: 방문 확인 gets no answer and
// says so next to the list while a load of the list is under way (the
// stream starts one at every change); that load's answer, coming after,
// leaves the message. (It cleared it: the visit-offline flake, whose wait
// for the message then timed out.)
func TestBrowserListLoadKeepsTheActionsMessage(t *testing.T) {
	app := newTestApp(t)
	app.run()
	browserCtx := newBrowser(t)
	id := app.openCampaign(ownerA, openNow())
	app.register(id, "정하늘", "010-4444-0101")
	tab := ownerOnCampaign(t, browserCtx, app.url, id)

	// The list's next answer is held; the visit's request fails as with no
	// network.
	held := make(chan fetch.RequestID, 1)
	var once sync.Once
	if err := chromedp.Listen(tab, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		if strings.Contains(e.Request.URL, "/visit") {
			go func() {
				_, _ = chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected})
			}()
			return
		}
		first := false
		once.Do(func() { first = true })
		if first {
			held <- e.RequestID
			return
		}
		go func() {
			_, _ = chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		}()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/participants?*", RequestStage: fetch.RequestStageResponse},
		{URLPattern: "*/visit", RequestStage: fetch.RequestStageRequest},
	}}); err != nil {
		t.Fatal(err)
	}

	// A load under way: the winners only (none yet).
	eval[bool](t, tab, `(() => { const s = document.querySelector("#filter-winner"); s.value = "true"; s.dispatchEvent(new Event("change")); return true; })()`)
	var load fetch.RequestID
	select {
	case load = <-held:
	case <-time.After(browserWait):
		t.Fatal("the list's load was not sent")
	}
	run(t, tab, "방문 확인", chromedp.Click(chromedp.CSS("#participant-rows button[data-entry]")))
	waitText(t, tab, "#participants .notice", "서버에 연결하지 못했습니다")

	if _, err := chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: load}); err != nil {
		t.Fatalf("let the load's answer through: %v", err)
	}
	waitText(t, tab, "#total-count", "0") // the load's answer is drawn
	if got := eval[string](t, tab, `document.querySelector("#participants .notice").textContent`); !strings.Contains(got, "서버에 연결하지 못했습니다") {
		t.Errorf("after the list's answer the notice says %q, want the visit's failure kept", got)
	}
}

// TestBrowserListKeepsRowsShownAlready: a load of the list that answers
// with the rows shown already leaves them in place (a click on their
// button may be on its way); only a different answer rebuilds them. (The
// rebuild under a click was TestBrowserCustomerAndOwner's 방문 확인 flake:
// the node chromedp found was gone.)
func TestBrowserListKeepsRowsShownAlready(t *testing.T) {
	app := newTestApp(t)
	app.run()
	browserCtx := newBrowser(t)
	id := app.openCampaign(ownerA, openNow())
	app.register(id, "정하늘", "010-4444-0101")
	tab := ownerOnCampaign(t, browserCtx, app.url, id)
	eval[bool](t, tab, `(() => { window.__rebuilt = 0;
		new MutationObserver((m) => { window.__rebuilt += m.length; }).observe(document.querySelector("#participant-rows"), { childList: true });
		return true; })()`)
	hold := holdAnswers(t, tab, "*/participants?*")
	filter := func(v string) string {
		return `(() => { const s = document.querySelector("#filter-winner"); s.value = "` + v + `"; s.dispatchEvent(new Event("change")); return true; })()`
	}

	eval[bool](t, tab, filter("")) // the same rows asked for again
	release := hold(1)
	eval[bool](t, tab, filter("true")) // asked next, once that answer is in
	release()
	// The next load is sent once the first answer has been drawn (one load
	// at a time).
	release = hold(1)
	if n := eval[int](t, tab, `window.__rebuilt`); n != 0 {
		t.Errorf("an answer with the rows shown already rebuilt them (%d changes)", n)
	}
	release()
	waitText(t, tab, "#total-count", "0")
}
