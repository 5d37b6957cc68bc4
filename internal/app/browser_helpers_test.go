package app

// The browser tests drive Debian's chromium (headless, a fresh profile each
// test) with chromedp against the whole service. A missing chromium fails
// the test with how to install it: never a silent skip.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserWait bounds every wait for the page; it is a deadlock guard, not
// a timing assertion.
const browserWait = 60 * time.Second

// chromiumNames are the browsers looked for on PATH, in order; the
// preflight deploy/test-prereqs.sh looks for the same (TestChromiumLookup).
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// chromiumPath finds the browser: $CHROMIUM, else Debian's chromium (or
// another of chromiumNames).
func chromiumPath(t *testing.T) string {
	t.Helper()
	p, err := findChromium()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func findChromium() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("the browser tests need Chromium: install it with `apt-get install -y chromium` " +
		"(Debian), or point $CHROMIUM at a Chromium or Chrome binary")
}

// newBrowser starts a headless chromium for the test and returns the
// context of its first tab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v (is `apt-get install -y chromium` done?)", err)
	}
	return ctx
}

// newTab opens another tab (its own sessionStorage) in the same browser.
// An uncaught script error or a console error (a Content-Security-Policy
// violation is one) in it fails the test at its end.
func newTab(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	recordTab(t, ctx)
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s %v", e.ExceptionDetails.Text, e.ExceptionDetails.Exception))
		case *cdplog.EventEntryAdded:
			// network: the HTTP errors the tests provoke on purpose (403, 409).
			if e.Entry.Level == cdplog.EntryLevelError && e.Entry.Source != cdplog.EntrySourceNetwork {
				problems = append(problems, fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log domain: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser console: %s", p)
		}
	})
	return ctx
}

// run runs actions in tab, failing the test on the first error.
func run(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, pageState(t, tab))
	}
}

// eval evaluates a JavaScript expression in the tab.
func eval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v\n%s", expr, err, pageState(t, tab))
	}
	return v
}

// pageText is the page's main text, for failure messages.
func pageText(tab context.Context) string {
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("main") || document.body).innerText +
		"\ninputs: " + JSON.stringify([...document.querySelectorAll("input, select")].map((e) => [e.id, e.type === "checkbox" ? e.checked : e.value]))`))
	return s
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, tab context.Context, sel, want string) {
	t.Helper()
	waitJS(t, tab, "text of "+sel+" contains "+want,
		`(() => { const e = document.querySelector(`+jsString(sel)+`); return !!e && e.textContent.includes(`+jsString(want)+`); })()`)
}

// waitJS polls a JavaScript condition in the page until it is true.
func waitJS(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	run(t, tab, "wait for "+what, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(browserWait)))
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "$", `\$`)
	return "`" + r.Replace(s) + "`"
}

// requestLog records the URLs of the requests a tab sends.
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

func logRequests(tab context.Context) *requestLog {
	l := &requestLog{}
	_ = chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			l.mu.Lock()
			l.urls = append(l.urls, e.Request.Method+" "+e.Request.URL)
			l.mu.Unlock()
		}
	})
	return l
}

func (l *requestLog) matching(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, u := range l.urls {
		if strings.Contains(u, substr) {
			out = append(out, u)
		}
	}
	return out
}

// downloads makes the tab save downloads into a directory of the test and
// returns a channel of the finished files' paths.
func downloads(t *testing.T, tab context.Context) <-chan string {
	t.Helper()
	dir := t.TempDir()
	done := make(chan string, 4)
	if err := chromedp.ListenBrowser(tab, func(ev any) {
		if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
			select {
			case done <- filepath.Join(dir, e.GUID):
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := chromedp.CallBrowser(tab, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &on,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	return done
}

// screenshot captures the element. With UPDATE_SCREENSHOTS=1 it is written
// to docs/screenshots/NAME.png (what the README shows); otherwise it goes
// to the test's temporary directory, so the capture itself is still tested.
func screenshot(t *testing.T, tab context.Context, sel, name string) {
	t.Helper()
	run(t, tab, "scroll to "+sel, chromedp.ScrollIntoView(chromedp.CSS(sel)))
	ctx, cancel := context.WithTimeout(tab, browserWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := t.TempDir()
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join(repoRoot(t), "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// intercept pauses the tab's requests matching pattern at stage (the
// request, or the response once the server answered) and hands each to
// handle, which must continue, fulfil or fail it. handle runs off the
// listener: commands cannot be sent from the listener itself.
func intercept(t *testing.T, tab context.Context, pattern string, stage fetch.RequestStage, handle func(*fetch.EventRequestPaused)) {
	t.Helper()
	if err := chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			go handle(e)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: pattern, RequestStage: stage},
	}}); err != nil {
		t.Fatalf("intercept %s: %v", pattern, err)
	}
}
