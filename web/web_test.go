package web

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestRoutes(t *testing.T) {
	h, err := NewHandler(Config{}) // no lookup: every well-formed id is 200
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
		status     int
		typ        string
	}{
		{"/p/0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11", "/assets/customer.js", http.StatusOK, "text/html"},
		{"/p/0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11?from=INSTAGRAM", "/assets/customer.js", http.StatusOK, "text/html"},
		{"/p/0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11/erase", "/assets/erase.js", http.StatusOK, "text/html"},
		{"/p/0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11/result", "/assets/result.js", http.StatusOK, "text/html"},
		{"/owner/", "/assets/owner.js", http.StatusOK, "text/html"},
		{"/assets/app.css", ":root", http.StatusOK, "text/css"},
		{"/assets/owner.js", "sessionStorage", http.StatusOK, "javascript"},
		{"/assets/", "페이지를 찾을 수 없습니다", http.StatusNotFound, "text/html"},
		{"/assets/../web.go", "페이지를 찾을 수 없습니다", http.StatusNotFound, "text/html"},
		{"/p/", "페이지를 찾을 수 없습니다", http.StatusNotFound, "text/html"},
		{"/p/x/y/z", "페이지를 찾을 수 없습니다", http.StatusNotFound, "text/html"},
		{"/owner/other", "페이지를 찾을 수 없습니다", http.StatusNotFound, "text/html"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("→ %d, want %d with %q:\n%.300s", rec.Code, tc.status, tc.want, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, tc.typ) {
				t.Errorf("Content-Type %q, want %s", ct, tc.typ)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
			if rec.Header().Get("Referrer-Policy") != "no-referrer" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", rec.Header())
			}
		})
	}
}

// The pages keep to what the CSP allows and what DESIGN asks: no inline
// script or style, nothing from another origin, every input labelled, every
// module import present.
func TestStaticFiles(t *testing.T) {
	static, err := fs.Sub(files, "static")
	if err != nil {
		t.Fatal(err)
	}
	var (
		inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
		handlerAttr  = regexp.MustCompile(`\son[a-z]+\s*=`)
		styleAttr    = regexp.MustCompile(`\sstyle\s*=`)
		remote       = regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
		inputID      = regexp.MustCompile(`<(?:input|select|textarea)[^>]*\sid="([^"]+)"`)
		importPath   = regexp.MustCompile(`from\s+"\./([^"]+)"`)
	)
	err = fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		s := string(b)
		for _, m := range remote.FindAllString(s, -1) {
			// the SVG namespace, not a fetch; drand's relay, a link the draw
			// page shows for its round (followed by the reader, never fetched:
			// connect-src is 'self')
			if !strings.HasSuffix(m, "//www.w3.org/") && !(path == "assets/draw.js" && m == "https://api.drand.sh/") {
				t.Errorf("%s refers to another origin: %s", path, m)
			}
		}
		switch {
		case strings.HasSuffix(path, ".html"):
			if inlineScript.MatchString(s) || handlerAttr.MatchString(s) || styleAttr.MatchString(s) {
				t.Errorf("%s has inline script, handler or style", path)
			}
			if !strings.Contains(s, `<html lang="ko">`) || !strings.Contains(s, `name="viewport"`) {
				t.Errorf("%s lacks lang=ko or the viewport", path)
			}
			for _, m := range inputID.FindAllStringSubmatch(s, -1) {
				if !strings.Contains(s, `for="`+m[1]+`"`) {
					t.Errorf("%s: #%s has no <label for>", path, m[1])
				}
			}
		case strings.HasSuffix(path, ".js"):
			if strings.Contains(s, "innerHTML") || strings.Contains(s, "eval(") {
				t.Errorf("%s uses innerHTML or eval", path)
			}
			for _, m := range importPath.FindAllStringSubmatch(s, -1) {
				if _, err := fs.Stat(static, "assets/"+m[1]); err != nil {
					t.Errorf("%s imports %s, which is missing", path, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A customer page answers 404 for a malformed or unknown campaign, with the
// same page (its script draws "not found"); a lookup that fails, times out
// or finds every slot taken serves it with 200, as without a lookup.
func TestCustomerPageStatus(t *testing.T) {
	known := uuid.MustParse("0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11")
	broken := uuid.MustParse("5d1f4c9a-0c55-4f0e-8a43-7d3c2b1a0e99")
	slow := uuid.MustParse("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
	h, err := NewHandler(Config{
		LookupTimeout: 50 * time.Millisecond,
		Campaign: func(ctx context.Context, id uuid.UUID) error {
			switch id {
			case known:
				return nil
			case broken:
				return errors.New("database away")
			case slow:
				<-ctx.Done()
				return ctx.Err()
			}
			return ErrNoCampaign
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, page string
		status     int
	}{
		{"/p/" + known.String(), "/assets/customer.js", http.StatusOK},
		{"/p/" + known.String() + "/erase", "/assets/erase.js", http.StatusOK},
		{"/p/" + uuid.NewString(), "/assets/customer.js", http.StatusNotFound},
		{"/p/" + uuid.NewString() + "/erase", "/assets/erase.js", http.StatusNotFound},
		{"/p/" + known.String() + "/result", "/assets/result.js", http.StatusOK},
		{"/p/" + uuid.NewString() + "/result", "/assets/result.js", http.StatusNotFound},
		{"/p/not-a-campaign", "/assets/customer.js", http.StatusNotFound},
		{"/p/" + broken.String(), "/assets/customer.js", http.StatusOK},
		{"/p/" + slow.String(), "/assets/customer.js", http.StatusOK},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, tc.path, nil))
			if rec.Code != tc.status {
				t.Errorf("%s %s → %d, want %d", method, tc.path, rec.Code, tc.status)
			}
			if method == http.MethodGet && !strings.Contains(rec.Body.String(), tc.page) {
				t.Errorf("GET %s is not the page with %s:\n%.300s", tc.path, tc.page, rec.Body.String())
			}
		}
	}
}

// With every lookup slot taken, a page is served at once with 200, without
// a lookup: a flood of unknown ids cannot queue on the database.
func TestCustomerPageLookupsAreBounded(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h, err := NewHandler(Config{MaxLookups: 1, Campaign: func(ctx context.Context, id uuid.UUID) error {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return ErrNoCampaign
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p/"+uuid.NewString(), nil))
		done <- rec.Code
	}()
	<-entered
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p/"+uuid.NewString(), nil))
	if rec.Code != http.StatusOK || calls.Load() != 1 {
		t.Errorf("with the slot taken: %d after %d lookups, want 200 after 1", rec.Code, calls.Load())
	}
	close(release)
	if code := <-done; code != http.StatusNotFound {
		t.Errorf("the first page → %d, want 404", code)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{LookupTimeout: -time.Second}, false},
		{Config{MaxLookups: -1}, false},
	} {
		_, err := NewHandler(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("NewHandler(%+v) = %v", tc.cfg, err)
		}
	}
}
