// Package web holds the two front ends, the customer's participation page
// and the owner's dashboard, embedded in the binary: plain HTML, CSS and JS
// modules with no build step and nothing fetched from elsewhere. The pages
// call the same REST API as anyone (api/openapi.yaml); this package serves
// the files, and asks Config.Campaign only whether a customer page's
// campaign exists, so that an unknown one answers 404.
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

//go:embed static
var files embed.FS

// csp allows only this origin: no inline script, no CDN. blob: is for the QR
// code and the CSV the owner page fetches with its token.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

var (
	customerPath = regexp.MustCompile(`^/p/([^/]+)$`)
	erasePath    = regexp.MustCompile(`^/p/([^/]+)/erase$`)
	resultPath   = regexp.MustCompile(`^/p/([^/]+)/result$`)
	drawPath     = regexp.MustCompile(`^/p/([^/]+)/draw$`)
)

// ErrNoCampaign is Config.Campaign's answer for an unknown campaign.
var ErrNoCampaign = errors.New("web: no such campaign")

// Config wires the pages to the service; the zero Config serves every
// customer page with 200 and lets its script tell.
type Config struct {
	// Campaign returns nil when the campaign exists, ErrNoCampaign when it
	// does not (then its pages answer 404, the same page drawn by script);
	// any other error, or no answer within LookupTimeout, serves the page
	// with 200 as without a Campaign.
	Campaign func(ctx context.Context, eventID uuid.UUID) error
	// LookupTimeout bounds one Campaign call (default 2 s).
	LookupTimeout time.Duration
	// MaxLookups bounds the Campaign calls in flight (default 8): the pages
	// are not rate-limited, so a flood of unknown ids takes at most this
	// many database connections; beyond it pages are served with 200.
	MaxLookups int
}

func (c *Config) setDefaults() {
	if c.LookupTimeout == 0 {
		c.LookupTimeout = 2 * time.Second
	}
	if c.MaxLookups == 0 {
		c.MaxLookups = 8
	}
}

// Validate reports a config the handler cannot run with.
func (c Config) Validate() error {
	var errs []error
	if c.LookupTimeout < 0 {
		errs = append(errs, errors.New("web: LookupTimeout must not be negative"))
	}
	if c.MaxLookups < 0 {
		errs = append(errs, errors.New("web: MaxLookups must not be negative"))
	}
	return errors.Join(errs...)
}

// NewHandler serves /p/{eventId} (the customer's form), /p/{eventId}/erase
// (the erasure request), /p/{eventId}/result (the announcement), /p/{eventId}/draw (the public draw
// certificate), /owner/ (the dashboard) and /assets/.
func NewHandler(cfg Config) (http.Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err // the embedded tree is fixed at build time
	}
	assets := http.FileServerFS(static)
	lookups := make(chan struct{}, cfg.MaxLookups)
	// status is a customer page's: 404 for a malformed or unknown campaign id.
	status := func(r *http.Request, id string) int {
		eventID, err := uuid.Parse(id)
		if err != nil {
			return http.StatusNotFound // the API answers 400 and the script shows the same page
		}
		if cfg.Campaign == nil {
			return http.StatusOK
		}
		select {
		case lookups <- struct{}{}:
			defer func() { <-lookups }()
		default:
			return http.StatusOK
		}
		ctx, cancel := context.WithTimeout(r.Context(), cfg.LookupTimeout)
		defer cancel()
		if errors.Is(cfg.Campaign(ctx, eventID), ErrNoCampaign) {
			return http.StatusNotFound
		}
		return http.StatusOK
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The pages are small and change with the binary: revalidate always.
		h.Set("Cache-Control", "no-cache")
		p := r.URL.Path
		if m := customerPath.FindStringSubmatch(p); m != nil {
			serveFile(w, r, static, "customer.html", status(r, m[1]))
			return
		}
		if m := erasePath.FindStringSubmatch(p); m != nil {
			serveFile(w, r, static, "erase.html", status(r, m[1]))
			return
		}
		if m := resultPath.FindStringSubmatch(p); m != nil {
			serveFile(w, r, static, "result.html", status(r, m[1]))
			return
		}
		if m := drawPath.FindStringSubmatch(p); m != nil {
			serveFile(w, r, static, "draw.html", status(r, m[1]))
			return
		}
		switch {
		case p == "/owner/":
			serveFile(w, r, static, "owner.html")
		case strings.HasPrefix(p, "/assets/") && path.Clean(p) == p && !strings.HasSuffix(p, "/"):
			assets.ServeHTTP(w, r)
		default:
			serveFile(w, r, static, "notfound.html", http.StatusNotFound)
		}
	}), nil
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
