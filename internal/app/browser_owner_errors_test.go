package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
)

// TestBrowserOwnerActionFailures: every owner action's request, not only
// the JSON ones, sends a 401 (or a token past its exp) back to sign-in with
// the message, and a network failure is said next to the action with its
// button usable again; none leaves an uncaught exception (newTab fails the
// test on one).
func TestBrowserOwnerActionFailures(t *testing.T) {
	app := newTestApp(t)
	app.run()
	browserCtx := newBrowser(t)
	open := app.openCampaign(ownerA, openNow())
	app.register(open, "정하늘", "010-4444-0101")
	drawn := app.openCampaign(ownerA, openNow())
	app.register(drawn, "정바다", "010-4444-0202")
	app.draw(ownerA, drawn, 1)

	expired, err := api.IssueToken(testJWTSecret, ownerA, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	refused, err := api.IssueToken(otherSecret, ownerA, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const (
		ranOut  = "로그인이 만료되었습니다"
		invalid = "토큰이 올바르지 않습니다"
	)
	csv := chromedp.Click(chromedp.CSS("#csv-download"))
	visit := chromedp.Click(chromedp.CSS("#participant-rows button[data-entry]"))
	draw := chromedp.Steps(
		chromedp.Click(chromedp.CSS("#draw-open")),
		chromedp.WaitVisible(chromedp.CSS("#draw-confirm")),
		chromedp.Click(chromedp.CSS("#draw-confirm")),
	)
	verify := chromedp.Click(chromedp.CSS("#verify-draw"))

	signOutCases := []struct {
		name    string
		eventID uuid.UUID
		token   string
		action  chromedp.Action[chromedp.Void]
		message string
	}{
		{"CSV, token past its exp", open, expired, csv, ranOut},
		{"CSV, token refused", open, refused, csv, invalid},
		{"visit, token refused", open, refused, visit, invalid},
		{"draw, token refused", open, refused, draw, invalid},
		{"verify, token refused", drawn, refused, verify, invalid},
	}
	for _, tc := range signOutCases {
		t.Run(tc.name, func(t *testing.T) {
			tab := ownerOnCampaign(t, browserCtx, app.url, tc.eventID)
			eval[bool](t, tab, `(() => { sessionStorage.setItem("participation.ownerToken", `+jsString(tc.token)+`); return true; })()`)
			run(t, tab, "the action", tc.action)
			waitJS(t, tab, "sign-in", `!!document.querySelector("#sign-in")`)
			waitText(t, tab, "#sign-in-notice", tc.message)
			waitText(t, tab, "#sign-in-notice", "토큰을 다시 입력해주세요")
		})
	}
	if n := app.eventsOfType("WinnersDrawn", open); n != 0 {
		t.Errorf("%d draws with a refused token", n)
	}

	// The QR code's request alone carries a refused token (the browser
	// rewrites its header): the server's 401 on it signs the owner out too.
	t.Run("QR code, token refused", func(t *testing.T) {
		tab := newTab(t, browserCtx)
		run(t, tab, "owner signed in",
			chromedp.Navigate(app.url+"/owner/#token="+token(t, ownerA)),
			chromedp.WaitVisible(chromedp.CSS("#open-form")))
		sendWithToken(t, tab, "*/qr.png", refused)
		run(t, tab, "the campaign", chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+open.String()+`"`))
		waitJS(t, tab, "sign-in", `!!document.querySelector("#sign-in")`)
		waitText(t, tab, "#sign-in-notice", invalid)
	})

	offlineCases := []struct {
		name, button, notice string
		action               chromedp.Action[chromedp.Void]
	}{
		{"CSV", "#csv-download", "#participants .notice", csv},
		{"visit", "#participant-rows button[data-entry]", "#participants .notice", visit},
		{"verify", "#verify-draw", "#verify-result", verify},
	}
	for _, tc := range offlineCases {
		t.Run(tc.name+", offline", func(t *testing.T) {
			id := open
			if tc.button == "#verify-draw" {
				id = drawn
			}
			tab := ownerOnCampaign(t, browserCtx, app.url, id)
			offline(t, tab, true)
			run(t, tab, "the action offline", tc.action)
			waitText(t, tab, tc.notice, "서버에 연결하지 못했습니다")
			offline(t, tab, false)
			waitJS(t, tab, "the button usable again",
				`(() => { const b = document.querySelector(`+jsString(tc.button)+`); return !!b && !b.disabled; })()`)
			if eval[bool](t, tab, `!!document.querySelector("#sign-in")`) {
				t.Error("a network failure signed the owner out")
			}
		})
	}
}

// sendWithToken makes the tab send the requests matching pattern with
// another bearer token.
func sendWithToken(t *testing.T, tab context.Context, pattern, tok string) {
	t.Helper()
	intercept(t, tab, pattern, fetch.RequestStageRequest, func(e *fetch.EventRequestPaused) {
		headers := []*fetch.HeaderEntry{{Name: "Authorization", Value: "Bearer " + tok}}
		for k, v := range e.Request.Headers {
			if !strings.EqualFold(k, "Authorization") {
				headers = append(headers, &fetch.HeaderEntry{Name: k, Value: fmt.Sprint(v)})
			}
		}
		_, _ = chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID, Headers: headers})
	})
}

// ownerOnCampaign opens a tab signed in as ownerA on the campaign's page
// (one participant), its row and its draw form or 검증 button shown.
func ownerOnCampaign(t *testing.T, browserCtx context.Context, base string, eventID uuid.UUID) context.Context {
	t.Helper()
	tab := newTab(t, browserCtx)
	run(t, tab, "owner on the campaign",
		chromedp.Navigate(base+"/owner/#token="+token(t, ownerA)),
		chromedp.WaitVisible(chromedp.CSS("#open-form")),
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+eventID.String()+`"`),
		chromedp.WaitVisible(chromedp.CSS("#participant-rows")))
	waitJS(t, tab, "a participant row", `!!document.querySelector("#participant-rows tr[data-entry]")`)
	waitJS(t, tab, "the draw form or the log", `!!document.querySelector("#draw-open, #verify-draw")`)
	// Settled: the stream has the final count, so no reload it triggers
	// can meet the token the test swaps in before the action does.
	waitText(t, tab, "#live-status", "실시간")
	waitText(t, tab, "#total-participants", "1")
	return tab
}
