package app

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserRetryAfterLostAnswer: the server commits a registration or a
// draw but its answer never reaches the page (the browser fails the
// response, as a dropped connection does). The page's retry of the same
// input sends the same Idempotency-Key and gets the first answer again: the
// customer's entry number, the owner's winners. Another input is another
// request, with a key of its own.
func TestBrowserRetryAfterLostAnswer(t *testing.T) {
	browserCtx := newBrowser(t)
	const name, phone = "오하람", "010-2718-2818"

	t.Run("registration, same input", func(t *testing.T) {
		app := newTestApp(t)
		id := app.openCampaign(ownerA, openNow())
		tab := newTab(t, browserCtx)
		lost := loseFirstAnswer(t, tab, "*/api/v1/participations")
		openForm(t, tab, app.url, id)
		fillByKeyboard(t, tab, name, phone)
		first := lostAnswer[registrationJSON](t, lost)
		waitText(t, tab, "#form-notice", "네트워크 연결이 불안정합니다")
		keptInput(t, tab, name, phone)
		run(t, tab, "retry", chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#success")))
		if got := eval[string](t, tab, `document.querySelector("#entry-number").textContent`); got != first.EntryNumber {
			t.Errorf("the retry shows entry number %q, the lost answer had %q", got, first.EntryNumber)
		}
		if n := app.eventsOfType("ParticipantRegistered", id); n != 1 {
			t.Errorf("%d registrations stored, want 1", n)
		}
	})

	t.Run("registration, input changed", func(t *testing.T) {
		app := newTestApp(t)
		id := app.openCampaign(ownerA, openNow())
		tab := newTab(t, browserCtx)
		lost := loseFirstAnswer(t, tab, "*/api/v1/participations")
		openForm(t, tab, app.url, id)
		fillByKeyboard(t, tab, name, phone)
		lostAnswer[registrationJSON](t, lost)
		waitText(t, tab, "#form-notice", "네트워크 연결이 불안정합니다")
		// The name corrected, the same phone: a new request, which the
		// first (committed) registration makes a duplicate, not a key reuse.
		run(t, tab, "send another input",
			chromedp.SendKeys(chromedp.CSS("#name"), "님"),
			chromedp.Click(chromedp.CSS("#submit")))
		waitText(t, tab, "#form-notice", alreadyParticipated)
		if n := app.eventsOfType("ParticipantRegistered", id); n != 1 {
			t.Errorf("%d registrations stored, want 1", n)
		}
	})

	t.Run("draw", func(t *testing.T) {
		app := newTestApp(t)
		id := app.openCampaign(ownerA, openNow())
		for i := range 3 {
			app.register(id, koreanName(i), phoneNumber(i))
		}
		tab := newTab(t, browserCtx)
		run(t, tab, "owner on the campaign",
			chromedp.Navigate(app.url+"/owner/#token="+token(t, ownerA)),
			chromedp.WaitVisible(chromedp.CSS("#open-form")),
			chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+id.String()+`"`),
			chromedp.WaitVisible(chromedp.CSS("#draw-open")))
		lost := loseFirstAnswer(t, tab, "*/draw-winners")
		confirm := chromedp.Steps(
			chromedp.Click(chromedp.CSS("#draw-open")),
			chromedp.WaitVisible(chromedp.CSS("#draw-confirm")),
			chromedp.Click(chromedp.CSS("#draw-confirm")))
		run(t, tab, "draw", chromedp.SetValue(chromedp.CSS("#winner-count"), "2"), confirm)
		first := lostAnswer[drawJSON](t, lost)
		waitText(t, tab, "#draw-notice", "서버에 연결하지 못했습니다")
		waitJS(t, tab, "the draw button usable", `!document.querySelector("#draw-open").disabled`)
		run(t, tab, "draw again", confirm)
		waitText(t, tab, "#draw-notice", "추첨이 완료되었습니다")
		shown := eval[[]string](t, tab, `[...document.querySelectorAll("#winner-table tbody tr")].map((r) => r.dataset.entry)`)
		if len(shown) != len(first.Winners) {
			t.Fatalf("winners shown %v, the lost answer had %d", shown, len(first.Winners))
		}
		for i, w := range first.Winners {
			if shown[i] != w.EntryNumber {
				t.Errorf("winner %d shown %s, the lost answer had %s", i+1, shown[i], w.EntryNumber)
			}
		}
		if n := app.eventsOfType("WinnersDrawn", id); n != 1 {
			t.Errorf("%d draws stored, want 1", n)
		}
	})
}

// loseFirstAnswer makes the tab fail the first response whose URL matches
// the pattern, after the server has answered it: the page sees a network
// error. The answer's body comes out on the channel. Later requests pass.
func loseFirstAnswer(t *testing.T, tab context.Context, pattern string) <-chan []byte {
	t.Helper()
	lost := make(chan []byte, 1)
	var once sync.Once
	intercept(t, tab, pattern, fetch.RequestStageResponse, func(e *fetch.EventRequestPaused) {
		first := false
		once.Do(func() { first = true })
		if !first {
			_, _ = chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
			return
		}
		body, err := chromedp.Call(tab, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: e.RequestID})
		if err != nil {
			t.Errorf("the intercepted answer's body: %v", err)
		}
		if _, err := chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonConnectionReset}); err != nil {
			t.Errorf("fail the answer: %v", err)
		}
		_, _ = chromedp.Call(tab, fetch.Disable, cdp.Empty{})
		lost <- body.Body
	})
	return lost
}

// lostAnswer decodes the answer the page never got.
func lostAnswer[T any](t *testing.T, lost <-chan []byte) T {
	t.Helper()
	var v T
	select {
	case b := <-lost:
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("the lost answer %q: %v", strings.TrimSpace(string(b)), err)
		}
	case <-time.After(browserWait):
		t.Fatal("no answer was intercepted")
	}
	return v
}
