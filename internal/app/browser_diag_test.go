package app

// A browser test that times out should say what it saw: every tab records
// its console, its exceptions and its requests (with their answers, or
// none yet), and the page itself records where each click landed and what
// moved under it (layout shifts). A failed step reports all of that with
// the page's state, and saves a screenshot and the DOM to a file.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// tabTraceScript runs in every document of a test's tab before the page's
// own scripts: it keeps the clicks (the element hit and where) and the
// layout shifts (the elements moved, from where to where) in
// window.__tabTrace, for the report of a failed step. Passive: it changes
// nothing the page does.
const tabTraceScript = `(() => {
  const trace = window.__tabTrace = [];
  const at = () => new Date().toISOString().slice(11, 23);
  const name = (n) => !n || !n.tagName ? String(n && n.nodeName) :
    n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") + (n.className && typeof n.className === "string" ? "." + n.className.trim().split(/\s+/).join(".") : "");
  const push = (s) => { trace.push(at() + " " + s); if (trace.length > 200) trace.shift(); };
  for (const type of ["mousedown", "click"]) {
    addEventListener(type, (e) => push(type + " (" + e.clientX + "," + e.clientY + ") on " + name(e.target) +
      " scrollY=" + Math.round(scrollY)), { capture: true, passive: true });
  }
  addEventListener("submit", (e) => push("submit " + name(e.target)), { capture: true, passive: true });
  const r = (b) => b ? Math.round(b.x) + "," + Math.round(b.y) + " " + Math.round(b.width) + "x" + Math.round(b.height) : "-";
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        push("layout shift " + e.value.toFixed(4) + ": " + (e.sources || []).map((s) =>
          name(s.node) + " " + r(s.previousRect) + " → " + r(s.currentRect)).join("; "));
      }
    }).observe({ type: "layout-shift", buffered: true });
  } catch (e) { push("no layout-shift observer: " + e); }
})();`

// tabRecord is what one tab did, in order, for the report of a failed step.
type tabRecord struct {
	mu      sync.Mutex
	lines   []string                     // UTC times, as the page's trace
	pending map[network.RequestID]string // sent, not answered yet
}

const tabRecordLines = 300

// tabRecords maps a tab's chromedp target to its record.
var tabRecords sync.Map

func (r *tabRecord) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addLocked(format, args...)
}

func (r *tabRecord) addLocked(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if len(line) > 300 {
		line = strings.ToValidUTF8(line[:300], "") + "…"
	}
	r.lines = append(r.lines, time.Now().UTC().Format("15:04:05.000 ")+line)
	if len(r.lines) > tabRecordLines {
		r.lines = r.lines[len(r.lines)-tabRecordLines:]
	}
}

// recordTab starts the tab's record; newTab calls it before the tab loads
// anything.
func recordTab(t *testing.T, tab context.Context) {
	t.Helper()
	rec := &tabRecord{pending: map[network.RequestID]string{}}
	if err := chromedp.Listen(tab, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range e.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			rec.add("console.%s %s", e.Type, strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			desc := ""
			if e.ExceptionDetails.Exception != nil {
				desc = e.ExceptionDetails.Exception.Description
			}
			rec.add("exception %s %s", e.ExceptionDetails.Text, desc)
		case *cdplog.EventEntryAdded:
			rec.add("log %s %s: %s (%s)", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
		case *network.EventRequestWillBeSent:
			rec.mu.Lock()
			what := e.Request.Method + " " + shortURL(e.Request.URL)
			rec.pending[e.RequestID] = what
			rec.addLocked("→ %s", what)
			rec.mu.Unlock()
		case *network.EventResponseReceived:
			rec.mu.Lock()
			rec.addLocked("← %d %s", e.Response.Status, rec.pending[e.RequestID])
			rec.mu.Unlock()
		case *network.EventLoadingFinished:
			rec.mu.Lock()
			delete(rec.pending, e.RequestID)
			rec.mu.Unlock()
		case *network.EventLoadingFailed:
			rec.mu.Lock()
			rec.addLocked("✗ %s: %s (canceled %v)", rec.pending[e.RequestID], e.ErrorText, e.Canceled)
			delete(rec.pending, e.RequestID)
			rec.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: tabTraceScript}); err != nil {
		t.Fatalf("trace the tab: %v", err)
	}
	tabRecords.Store(chromedp.FromContext(tab).Target, rec)
	t.Cleanup(func() { tabRecords.Delete(chromedp.FromContext(tab).Target) })
}

// shortURL drops the scheme and host: the tests' server is on localhost.
func shortURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.Index(u[i+3:], "/"); j >= 0 {
			return u[i+3+j:]
		}
	}
	return u
}

// pageState says what the tab shows and did: the page's state (address,
// scroll, focus, open dialogs, the main text), the clicks and layout
// shifts, the console and the requests, still unanswered ones included.
// The screenshot and the whole DOM go to files, named in the report.
func pageState(t *testing.T, tab context.Context) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	var b strings.Builder
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const name = (n) => !n || !n.tagName ? String(n) : n.tagName.toLowerCase() + (n.id ? "#" + n.id : "");
		return [
			"address: " + location.href + " (" + document.readyState + ")",
			"viewport: scrollY=" + Math.round(scrollY) + " innerHeight=" + innerHeight + " height=" + document.documentElement.scrollHeight,
			"focus: " + name(document.activeElement),
			"open dialogs: " + ([...document.querySelectorAll("dialog[open]")].map(name).join(", ") || "none"),
			"trace:\n  " + (window.__tabTrace || ["(none)"]).join("\n  "),
			"text:\n" + (document.querySelector("main") || document.body).innerText.slice(0, 4000),
			"inputs: " + JSON.stringify([...document.querySelectorAll("input, select")].map((e) => [e.id, e.type === "checkbox" ? e.checked : e.value])),
		].join("\n");
	})()`))
	if err != nil {
		fmt.Fprintf(&b, "page state: %v\n", err)
	}
	b.WriteString(state)
	if v, ok := tabRecords.Load(chromedp.FromContext(tab).Target); ok {
		rec := v.(*tabRecord)
		rec.mu.Lock()
		fmt.Fprintf(&b, "\nconsole and network (now %s UTC):\n  %s", time.Now().UTC().Format("15:04:05.000"), strings.Join(rec.lines, "\n  "))
		for _, what := range rec.pending {
			fmt.Fprintf(&b, "\n  unanswered: %s", what)
		}
		rec.mu.Unlock()
	}
	dir := failureDir(t)
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
		p := filepath.Join(dir, "screenshot.jpg")
		if err := os.WriteFile(p, png, 0o644); err == nil {
			fmt.Fprintf(&b, "\nscreenshot: %s", p)
		}
	}
	if dom, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		p := filepath.Join(dir, "dom.html")
		if err := os.WriteFile(p, []byte(dom), 0o644); err == nil {
			fmt.Fprintf(&b, "\nDOM: %s", p)
		}
	}
	return b.String()
}

// failureDir is where a failed step's files go: $BROWSER_FAILURES, else the
// system's temporary directory; not the test's, which is removed with it.
func failureDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("BROWSER_FAILURES")
	if root == "" {
		root = filepath.Join(os.TempDir(), "participation-browser-failures")
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	dir := filepath.Join(root, name+"-"+time.Now().UTC().Format("20060102T150405.000"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("failure files: %v", err)
		return os.TempDir()
	}
	return dir
}
