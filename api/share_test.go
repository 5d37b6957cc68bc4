package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/domain"
)

// Share links and the QR code are PUBLIC_BASE_URL's, whatever Host (or
// X-Forwarded-Host, or TLS) the request came with.
func TestShareLinksIgnoreTheRequestHost(t *testing.T) {
	h := newHTTPHarness(t)
	want := func(channel string) string { return testBaseURL + "/p/" + campaignA.String() + "?from=" + channel }
	forged := func(path string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "evil.example"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Forwarded-Proto", "http")
		req.Header.Set("Authorization", "Bearer "+h.token(ownerA))
		return h.send(req)
	}

	links := decode[struct {
		Links []struct{ EntryPath, URL string }
	}](t, forged("/api/v1/events/"+campaignA.String()+"/share-links"))
	if len(links.Links) != len(domain.EntryPaths) {
		t.Fatalf("%d links, want %d", len(links.Links), len(domain.EntryPaths))
	}
	for i, l := range links.Links {
		if l.EntryPath != string(domain.EntryPaths[i]) || l.URL != want(l.EntryPath) {
			t.Errorf("link %d = %s %s, want %s %s", i, l.EntryPath, l.URL, domain.EntryPaths[i], want(string(domain.EntryPaths[i])))
		}
	}

	resp := forged("/api/v1/events/" + campaignA.String() + "/qr.png")
	wantStatus(t, resp, http.StatusOK)
	got, _ := io.ReadAll(resp.Body)
	// The encoding is deterministic: equal images encode equal text.
	for text, same := range map[string]bool{
		want("STORE_QR"): true,
		"http://evil.example/p/" + campaignA.String() + "?from=STORE_QR": false,
		"http://example.com/p/" + campaignA.String() + "?from=STORE_QR":  false,
	} {
		img, err := api.QRPNG(text)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(got, img) != same {
			t.Errorf("the QR code encodes %q: %v, want %v", text, !same, same)
		}
	}
}

func TestShareLinksAreTheOwners(t *testing.T) {
	h := newHTTPHarness(t)
	path := "/api/v1/events/" + campaignA.String() + "/share-links"
	wantError(t, h.do(http.MethodGet, path, nil), http.StatusUnauthorized, "UNAUTHORIZED")
	wantError(t, h.asOwner(ownerB, http.MethodGet, path, nil), http.StatusForbidden, "FORBIDDEN")
	wantError(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+uuid.NewString()+"/share-links", nil), http.StatusNotFound, "EVENT_NOT_FOUND")
	wantError(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events/nope/share-links", nil), http.StatusBadRequest, "INVALID_REQUEST")
}

func TestParsePublicBaseURL(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "https://events.example.com", want: "https://events.example.com"},
		{in: "https://events.example.com/", want: "https://events.example.com"},
		{in: "http://localhost:8080//", want: "http://localhost:8080"},
		{in: "https://example.com/shop/", want: "https://example.com/shop"},
		{in: "", wantErr: "PUBLIC_BASE_URL is empty"},
		{in: "events.example.com", wantErr: "absolute http"},
		{in: "/relative", wantErr: "absolute http"},
		{in: "ftp://example.com", wantErr: "absolute http"},
		{in: "javascript:alert(1)", wantErr: "absolute http"},
		{in: "https://", wantErr: "no host"},
		{in: "https://:8080", wantErr: "no host"},
		{in: "https://a:b@example.com", wantErr: "no user"},
		{in: "https://example.com/?x=1", wantErr: "no query or fragment"},
		{in: "https://example.com/?", wantErr: "no query or fragment"},
		{in: "https://example.com/#top", wantErr: "no query or fragment"},
		{in: "https://exa mple.com", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := api.ParsePublicBaseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePublicBaseURL(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "a:b") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePublicBaseURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
