package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// ParsePublicBaseURL reads PUBLIC_BASE_URL, the origin (and optional path
// prefix) customers reach the pages by: share links and QR codes are built
// from it, never from a request's Host, which any client sets. It must be an
// absolute http or https URL without user, query or fragment; a trailing
// slash is dropped.
func ParsePublicBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return "", errors.New("PUBLIC_BASE_URL is empty: set it to the address customers open, such as https://events.example.com")
	case err != nil:
		return "", fmt.Errorf("PUBLIC_BASE_URL %q: not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("PUBLIC_BASE_URL %q: want an absolute http:// or https:// URL", s)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("PUBLIC_BASE_URL %q: no host", s)
	case u.User != nil:
		return "", fmt.Errorf("PUBLIC_BASE_URL: no user or password, please")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return "", fmt.Errorf("PUBLIC_BASE_URL %q: no query or fragment", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// shareURL is the customer page's link for one channel.
func (s *server) shareURL(eventID uuid.UUID, channel domain.EntryPath) string {
	return s.cfg.PublicBaseURL + "/p/" + eventID.String() + "?from=" + url.QueryEscape(string(channel))
}

type shareLinkJSON struct {
	EntryPath string `json:"entryPath"`
	URL       string `json:"url"`
}

type shareLinksJSON struct {
	Links []shareLinkJSON `json:"links"`
}

// shareLinks answers the customer page's link for every channel, so the
// dashboard shows the links the QR code encodes (PUBLIC_BASE_URL's, not the
// origin the owner happens to use).
func (s *server) shareLinks(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok || !s.authorizeCampaign(c, eventID) {
		return
	}
	out := shareLinksJSON{Links: make([]shareLinkJSON, 0, len(domain.EntryPaths))}
	for _, p := range domain.EntryPaths {
		out.Links = append(out.Links, shareLinkJSON{EntryPath: string(p), URL: s.shareURL(eventID, p)})
	}
	c.JSON(http.StatusOK, out)
}
