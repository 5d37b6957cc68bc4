package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, want string
		status     int
		typ        string
	}{
		{"/p/0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11", "/assets/customer.js", http.StatusOK, "text/html"},
		{"/p/0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11?from=INSTAGRAM", "/assets/customer.js", http.StatusOK, "text/html"},
		{"/p/0b9e0c1e-8d59-4a3e-9d43-2f6f6a0d2b11/erase", "/assets/erase.js", http.StatusOK, "text/html"},
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
			if !strings.HasSuffix(m, "//www.w3.org/") { // the SVG namespace, not a fetch
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
