package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopevents/participation/api"
)

// TestBrowserSignIn: the embedded banner's 30-day token, through the
// #token fragment or pasted, keeps the owner signed in after the first
// moment and through an action (browsers fire a setTimeout above 2^31-1 ms,
// about 24.8 days, at once); a token that runs out while the page is open
// sends the owner back to sign-in with a message.
func TestBrowserSignIn(t *testing.T) {
	app := newTestApp(t)
	browserCtx := newBrowser(t)
	month := issueToken(t, ownerA, 30*24*time.Hour)

	t.Run("banner link", func(t *testing.T) {
		tab := newTab(t, browserCtx)
		run(t, tab, "sign in through the fragment", chromedp.Navigate(app.url+"/owner/#token="+month))
		staysSignedIn(t, tab)
	})

	t.Run("pasted", func(t *testing.T) {
		tab := newTab(t, browserCtx)
		run(t, tab, "paste the token",
			chromedp.Navigate(app.url+"/owner/"),
			chromedp.WaitVisible(chromedp.CSS("#sign-in")),
			chromedp.SetValue(chromedp.CSS("#token"), month),
			chromedp.Click(chromedp.CSS("#sign-in button[type=submit]")))
		staysSignedIn(t, tab)
	})

	t.Run("runs out", func(t *testing.T) {
		tab := newTab(t, browserCtx)
		short := issueToken(t, ownerA, 2*time.Second)
		run(t, tab, "sign in with a token about to run out",
			chromedp.Navigate(app.url+"/owner/#token="+short),
			chromedp.WaitVisible(chromedp.CSS("#sign-in")))
		waitText(t, tab, "#sign-in-notice", "만료")
		waitText(t, tab, "#sign-in-notice", "토큰을 다시 입력해주세요")
		if eval[bool](t, tab, `!!sessionStorage.getItem("participation.ownerToken")`) {
			t.Error("the run-out token stays in sessionStorage")
		}
	})
}

// staysSignedIn waits for the dashboard's list to load, then opens a
// campaign with its form and waits for the campaign's live stream: the
// owner must still be signed in after each.
func staysSignedIn(t *testing.T, tab context.Context) {
	t.Helper()
	waitJS(t, tab, "the event list or sign-in", `!!document.querySelector("#events li, #sign-in")`)
	signedIn(t, tab, "once the list loaded")
	run(t, tab, "open a campaign",
		chromedp.SendKeys(chromedp.CSS("#ev-title"), "한 달 토큰 이벤트"),
		chromedp.Click(chromedp.CSS("#open-form button[type=submit]")))
	waitJS(t, tab, "the campaign or sign-in", `!!document.querySelector("#participant-rows, #sign-in")`)
	signedIn(t, tab, "after opening a campaign")
	waitJS(t, tab, "the live stream or sign-in",
		`document.querySelector("#sign-in") || (document.querySelector("#live-status") || {}).textContent === "실시간"`)
	signedIn(t, tab, "once the stream is live")
}

func signedIn(t *testing.T, tab context.Context, when string) {
	t.Helper()
	if eval[bool](t, tab, `!!document.querySelector("#sign-in")`) {
		t.Fatalf("signed out %s: %s", when, pageText(tab))
	}
	if !eval[bool](t, tab, `!!sessionStorage.getItem("participation.ownerToken") && !document.querySelector("#sign-out").hidden`) {
		t.Fatalf("no session %s", when)
	}
}

// issueToken is an owner token valid for ttl from now.
func issueToken(t testing.TB, owner string, ttl time.Duration) string {
	t.Helper()
	tok, err := api.IssueToken(testJWTSecret, owner, ttl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
