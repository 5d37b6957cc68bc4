// Package web holds the two front ends, the customer's participation page
// and the owner's dashboard, embedded in the binary: plain HTML, CSS and JS
// modules with no build step and nothing fetched from elsewhere. The pages
// call the same REST API as anyone (api/openapi.yaml); this package only
// serves the files.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

//go:embed static
var files embed.FS

// csp allows only this origin: no inline script, no CDN. blob: is for the QR
// code and the CSV the owner page fetches with its token.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

var (
	customerPath = regexp.MustCompile(`^/p/[^/]+$`)
	erasePath    = regexp.MustCompile(`^/p/[^/]+/erase$`)
)

// Handler serves /p/{eventId} (the customer's form), /p/{eventId}/erase (the
// erasure request), /owner/ (the dashboard) and /assets/.
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	assets := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The pages are small and change with the binary: revalidate always.
		h.Set("Cache-Control", "no-cache")
		p := r.URL.Path
		switch {
		case customerPath.MatchString(p):
			serveFile(w, r, static, "customer.html")
		case erasePath.MatchString(p):
			serveFile(w, r, static, "erase.html")
		case p == "/owner/":
			serveFile(w, r, static, "owner.html")
		case strings.HasPrefix(p, "/assets/") && path.Clean(p) == p && !strings.HasSuffix(p, "/"):
			assets.ServeHTTP(w, r)
		default:
			serveFile(w, r, static, "notfound.html", http.StatusNotFound)
		}
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, static fs.FS, name string, status ...int) {
	b, err := fs.ReadFile(static, name)
	if err != nil {
		http.Error(w, "page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if len(status) > 0 {
		w.WriteHeader(status[0])
	}
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
