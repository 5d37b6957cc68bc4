package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/domain"
)

// blockingLeaves streams one leaf, then waits for release.
type blockingLeaves struct {
	entered chan struct{}
	release chan struct{}
}

func (b blockingLeaves) DrawCertificate(context.Context, uuid.UUID) (domain.DrawCertificate, error) {
	return domain.DrawCertificate{}, nil
}

func (b blockingLeaves) EachDrawLeaf(_ context.Context, _ uuid.UUID, fn func(domain.DrawLeafLine) error) error {
	b.entered <- struct{}{}
	<-b.release
	return fn(domain.DrawLeafLine{Index: 0, LeafHash: strings.Repeat("ab", 32), Weight: 1})
}

// The leaves' downloads in flight are capped per instance (each holds a
// database connection): one more is 503 with Retry-After, and a slot freed
// serves the next.
func TestDrawLeavesDownloadsAreCapped(t *testing.T) {
	t.Parallel()
	leaves := blockingLeaves{entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := newHTTPHarness(t, withConfig(func(c *api.Config) { c.Certificates = leaves; c.MaxLeafStreams = 1 }))
	path := "/api/v1/events/" + campaignA.String() + "/draw-certificate/leaves"
	first := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		first <- rec
	}()
	<-leaves.entered
	resp := h.do(http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a second download while one streams → %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(leaves.release)
	if rec := <-first; rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"leafHash"`) {
		t.Fatalf("the first download → %d: %s", rec.Code, rec.Body)
	}
	go func() { <-leaves.entered }()
	if resp := h.do(http.MethodGet, path, nil); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("a download after → %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
