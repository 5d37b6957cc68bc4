package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// dialogs answers the tab's JavaScript dialogs (accepting when accept says
// so) and keeps their messages.
type dialogs struct {
	mu       sync.Mutex
	messages []string
	accept   bool
}

func answerDialogs(t *testing.T, tab context.Context) *dialogs {
	t.Helper()
	d := &dialogs{}
	if err := chromedp.Listen(tab, func(ev any) {
		e, ok := ev.(*page.EventJavascriptDialogOpening)
		if !ok {
			return
		}
		d.mu.Lock()
		d.messages = append(d.messages, e.Message)
		accept := d.accept
		d.mu.Unlock()
		// commands cannot be sent from the listener itself
		go func() {
			_, _ = chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
		}()
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *dialogs) setAccept(accept bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accept = accept
}

func (d *dialogs) seen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.messages...)
}

// TestBrowserOwnerSwitchAsks: the header names the owner signed in; a
// #token= link of another owner asks before switching (login CSRF), keeps
// the session when declined and switches when accepted; the same owner's
// link refreshes the token without a question. Links followed within the
// page (a fragment change) and opened afresh (a load) behave alike.
func TestBrowserOwnerSwitchAsks(t *testing.T) {
	app := newTestApp(t)
	tab := newTab(t, newBrowser(t))
	answers := answerDialogs(t, tab)
	tokA, tokB := issueToken(t, ownerA, time.Hour), issueToken(t, ownerB, time.Hour)
	follow := func(what, tok string) { // a link within the page: only the fragment changes
		t.Helper()
		run(t, tab, what, chromedp.Evaluate[chromedp.Void](`location.hash = "#token=`+tok+`"`))
	}
	open := func(what, tok string) { // a link opened afresh in this tab: a load
		t.Helper()
		run(t, tab, what, chromedp.Navigate("about:blank"), chromedp.Navigate(app.url+"/owner/#token="+tok))
	}
	signedInAs := func(owner, tok, when string) {
		t.Helper()
		waitJS(t, tab, "the fragment cleared "+when, `location.hash === "#/"`)
		waitJS(t, tab, "the list "+when, `!!document.querySelector("#open-form")`)
		waitText(t, tab, "#owner-id", owner)
		if got := eval[string](t, tab, `document.querySelector("#owner-id").textContent`); got != owner {
			t.Fatalf("%s: the header names %q, want %q", when, got, owner)
		}
		if !eval[bool](t, tab, `!document.querySelector("#signed-in-as").hidden`) {
			t.Fatalf("%s: the signed-in owner is hidden", when)
		}
		if got := eval[string](t, tab, `sessionStorage.getItem("participation.ownerToken")`); got != tok {
			t.Fatalf("%s: the session holds another token than %s's", when, owner)
		}
	}
	wantDialogs := func(n int, when string) {
		t.Helper()
		waitJS(t, tab, "the page to settle "+when, `document.readyState === "complete"`)
		if got := answers.seen(); len(got) != n {
			t.Fatalf("%s: %d dialogs (%q), want %d", when, len(got), got, n)
		}
	}

	open("sign in as A", tokA)
	signedInAs(ownerA, tokA, "after A's link")
	wantDialogs(0, "signing in with no session")

	answers.setAccept(false)
	follow("follow B's link, declined", tokB)
	signedInAs(ownerA, tokA, "after declining B")
	wantDialogs(1, "after B's link")
	if msg := answers.seen()[0]; !strings.Contains(msg, ownerA) || !strings.Contains(msg, ownerB) {
		t.Errorf("the question %q does not name both owners", msg)
	}

	answers.setAccept(true)
	follow("follow B's link, accepted", tokB)
	signedInAs(ownerB, tokB, "after accepting B")
	wantDialogs(2, "after B's link accepted")

	refreshed := issueToken(t, ownerB, 2*time.Hour)
	follow("follow B's newer link", refreshed)
	waitJS(t, tab, "the refreshed token", `sessionStorage.getItem("participation.ownerToken") === `+jsString(refreshed))
	signedInAs(ownerB, refreshed, "after B's newer link")
	wantDialogs(2, "after the same owner's link")

	answers.setAccept(false)
	open("open A's link afresh, declined", tokA)
	signedInAs(ownerB, refreshed, "after declining A on a load")
	wantDialogs(3, "after A's link on a load")

	run(t, tab, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#sign-in")))
	if eval[bool](t, tab, `!document.querySelector("#signed-in-as").hidden`) {
		t.Error("signed out, the header still names an owner")
	}
}
