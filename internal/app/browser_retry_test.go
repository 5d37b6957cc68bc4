package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
)

// TestBrowserRetryKeepsInput: a 429 from the real rate limiter and a real
// network failure (the browser offline) both leave what was typed in the
// form, say to retry, and a retry then goes through. The form is filled by
// keyboard only (Tab, typing, Space, Enter), as a keyboard user does.
func TestBrowserRetryKeepsInput(t *testing.T) {
	browserCtx := newBrowser(t)
	const name, phone = "최지우", "010-3141-5926"

	t.Run("429", func(t *testing.T) {
		// Two tokens, refilled after hours: the page load and its campaign
		// read spend them.
		app := newTestAppWith(t, appSetup{RateLimit: api.RateLimit{PerSecond: 0.0001, Burst: 2}})
		id := app.openCampaign(ownerA, openNow())
		tab := newTab(t, browserCtx)
		openForm(t, tab, app.url, id)
		fillByKeyboard(t, tab, name, phone)
		waitText(t, tab, "#form-notice", "요청이 많아 잠시 기다려야 합니다")
		keptInput(t, tab, name, phone)
		if n := app.eventsOfType("ParticipantRegistered", id); n != 0 {
			t.Errorf("%d registrations after a 429", n)
		}
	})

	t.Run("offline", func(t *testing.T) {
		app := newTestApp(t)
		id := app.openCampaign(ownerA, openNow())
		tab := newTab(t, browserCtx)
		openForm(t, tab, app.url, id)
		offline(t, tab, true)
		fillByKeyboard(t, tab, name, phone)
		waitText(t, tab, "#form-notice", "네트워크 연결이 불안정합니다")
		keptInput(t, tab, name, phone)
		offline(t, tab, false)
		run(t, tab, "retry", chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#success")))
		if n := app.eventsOfType("ParticipantRegistered", id); n != 1 {
			t.Errorf("%d registrations after the retry, want 1", n)
		}
	})
}

func openForm(t *testing.T, tab context.Context, base string, id uuid.UUID) {
	t.Helper()
	run(t, tab, "customer page",
		chromedp.EmulateViewport(360, 800),
		chromedp.Navigate(fmt.Sprintf("%s/p/%s?from=KAKAO", base, id)),
		chromedp.WaitVisible(chromedp.CSS("#form")))
	// Mobile first: nothing wider than the 360 px phone.
	if w := eval[int](t, tab, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("the customer page is %d px wide on a 360 px screen", w)
	}
}

// fillByKeyboard fills and sends the form with keys only: the name field
// has the focus after a Tab from the page's start region, then Tab, Tab
// (past the entry path, preselected), Space on the consent, Enter.
func fillByKeyboard(t *testing.T, tab context.Context, name, phone string) {
	t.Helper()
	run(t, tab, "fill by keyboard",
		chromedp.Focus(chromedp.CSS("#name")),
		chromedp.KeyEvent(name),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent(phone),
		chromedp.KeyEvent("\t\t"),
		chromedp.KeyEvent(" "))
	if !eval[bool](t, tab, `document.querySelector("#consent").checked`) {
		t.Fatal("Tab, Tab and Space did not reach and tick the consent box")
	}
	run(t, tab, "send with Enter", chromedp.Focus(chromedp.CSS("#phone")), chromedp.KeyEvent("\r"))
}

func keptInput(t *testing.T, tab context.Context, name, phone string) {
	t.Helper()
	got := eval[[]string](t, tab, `["#name", "#phone", "#entryPath"].map((s) => document.querySelector(s).value)`)
	if len(got) != 3 || got[0] != name || got[1] != phone || got[2] != "KAKAO" {
		t.Errorf("the form holds %q after the failure, want what was typed", got)
	}
	if !eval[bool](t, tab, `document.querySelector("#consent").checked && !document.querySelector("#submit").disabled`) {
		t.Error("the consent or the button did not survive the failure")
	}
}

// offline turns the tab's network off or on: requests fail as on a phone
// that lost its connection.
func offline(t *testing.T, tab context.Context, off bool) {
	t.Helper()
	conds := []*network.Conditions{}
	if off {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule,
		network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
		t.Fatalf("network conditions: %v", err)
	}
}
