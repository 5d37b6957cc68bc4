package api

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/projections"
)

type campaignJSON struct {
	EventID          uuid.UUID `json:"eventId"`
	Title            string    `json:"title"`
	StartsAt         time.Time `json:"startsAt"`
	EndsAt           time.Time `json:"endsAt"`
	AnnounceAt       time.Time `json:"announceAt"`
	ClaimDeadline    time.Time `json:"claimDeadline"`
	State            string    `json:"state"`
	ParticipantCount int64     `json:"participantCount"`
}

type campaignPageJSON struct {
	Events     []campaignJSON `json:"events"`
	TotalCount int64          `json:"totalCount"`
	Page       int            `json:"page"`
	Size       int            `json:"size"`
}

// listCampaigns is the owner's 내 이벤트: the campaigns read model, paged like
// the participant list.
func (s *server) listCampaigns(c *gin.Context) {
	if s.cfg.Campaigns == nil {
		s.writeError(c, errUnavailable)
		return
	}
	page, size, err := pageParams(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	res, err := s.cfg.Campaigns.Campaigns(c.Request.Context(), ownerOf(c),
		CampaignFilter{Page: page, Size: size, Now: s.cfg.Now()})
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := campaignPageJSON{Events: make([]campaignJSON, 0, len(res.Items)), TotalCount: res.TotalCount, Page: page, Size: size}
	for _, e := range res.Items {
		resp.Events = append(resp.Events, campaignJSON{
			EventID: e.EventID, Title: e.Title, StartsAt: e.StartsAt, EndsAt: e.EndsAt,
			AnnounceAt: e.AnnounceAt, ClaimDeadline: e.ClaimDeadline, State: string(e.State), ParticipantCount: e.Participants,
		})
	}
	c.JSON(http.StatusOK, resp)
}

func pageParams(c *gin.Context) (page, size int, err error) {
	var fe fieldErrors
	page, size = 1, defaultPageSize
	if v, ok := c.GetQuery("page"); ok {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > maxPage {
			fe.add("page", fmt.Sprintf("Must be an integer from 1 to %d.", maxPage))
		}
	}
	if v, ok := c.GetQuery("size"); ok {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > maxPageSize {
			fe.add("size", fmt.Sprintf("Must be an integer from 1 to %d.", maxPageSize))
		}
	}
	return page, size, fe.err()
}

// campaignState is the state the campaigns read model would show, derived
// by the same rule, from the store's current view of the campaign.
func campaignState(c domain.Campaign, now time.Time) projections.CampaignState {
	return CampaignRow{StartsAt: c.StartsAt, EndsAt: c.EndsAt, Drawn: c.Drawn}.StateAt(now)
}

// Retention is how long personal data is kept after a campaign's
// announceAt (RETENTION_NON_WINNERS, RETENTION_WINNERS).
type Retention struct {
	NonWinners, Winners time.Duration
}

type retentionJSON struct {
	NonWinnersHours int64 `json:"nonWinnersHours"`
	WinnersHours    int64 `json:"winnersHours"`
}

type publicCampaignJSON struct {
	EventID    uuid.UUID      `json:"eventId"`
	Title      string         `json:"title"`
	StartsAt   time.Time      `json:"startsAt"`
	EndsAt     time.Time      `json:"endsAt"`
	AnnounceAt time.Time      `json:"announceAt"`
	State      string         `json:"state"`
	Retention  *retentionJSON `json:"retention,omitempty"`
	// PhoneVerification is "otp" when registration, erase and claim need a
	// code sent to the phone, else "off".
	PhoneVerification string `json:"phoneVerification"`

	ClaimDeadline time.Time `json:"claimDeadline"`
}

// knownCampaign is the public campaign read: an id recently found unknown
// is answered from the miss cache.
func (s *server) knownCampaign(ctx context.Context, eventID uuid.UUID) (domain.Campaign, error) {
	return throughMisses(s.misses, eventID, func() (domain.Campaign, error) {
		return s.public.Campaign.Handle(ctx, eventID)
	})
}

// campaignKnown is the pages' CampaignCheck: the public campaign read's
// answer, without the campaign.
func (s *server) campaignKnown(ctx context.Context, eventID uuid.UUID) error {
	if s.public.Campaign == nil {
		return errUnavailable
	}
	_, err := s.knownCampaign(ctx, eventID)
	return err
}

// publicCampaign is what the customer page shows before the form: title,
// dates and whether it takes entries. It never names the owner.
func (s *server) publicCampaign(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok {
		return
	}
	if s.public.Campaign == nil {
		s.writeError(c, errUnavailable)
		return
	}
	camp, err := s.knownCampaign(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := publicCampaignJSON{
		EventID: camp.ID, Title: camp.Title, StartsAt: camp.StartsAt, EndsAt: camp.EndsAt,
		AnnounceAt: camp.AnnounceAt, State: string(campaignState(camp, s.cfg.Now())), ClaimDeadline: camp.ClaimDeadline,
		PhoneVerification: "off",
	}
	if s.cfg.PhoneVerification {
		resp.PhoneVerification = "otp"
	}
	if r := s.cfg.Retention; r != nil {
		// Rounded up: the page never promises a shorter keep than the real one.
		resp.Retention = &retentionJSON{NonWinnersHours: ceilHours(r.NonWinners), WinnersHours: ceilHours(r.Winners)}
	}
	c.JSON(http.StatusOK, resp)
}

func ceilHours(d time.Duration) int64 { return int64((d + time.Hour - 1) / time.Hour) }

// storeQR answers the PNG of the STORE_QR link of a campaign, for the owner
// to print. The link is PUBLIC_BASE_URL's: a printed code must not point
// wherever a request's Host said.
func (s *server) storeQR(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok || !s.authorizeCampaign(c, eventID) {
		return
	}
	b, err := qrPNG(s.shareURL(eventID, domain.EntryPathStoreQR))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "image/png", b)
}

// qrPNG draws text as a QR code: 8 pixels a module and the 4-module quiet
// zone the standard asks for, black on white.
func qrPNG(text string) ([]byte, error) {
	qr, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	w := &pngWriter{scale: 8, quiet: 4}
	if err := qr.Save(w); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return w.buf.Bytes(), nil
}

// pngWriter is a qrcode.Writer that encodes the matrix with image/png.
type pngWriter struct {
	scale, quiet int
	buf          bytes.Buffer
}

func (w *pngWriter) Write(mat qrcode.Matrix) error {
	side := (mat.Width() + 2*w.quiet) * w.scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	mat.Iterate(qrcode.IterDirection_COLUMN, func(x, y int, v qrcode.QRValue) {
		if !v.IsSet() {
			return
		}
		x0, y0 := (x+w.quiet)*w.scale, (y+w.quiet)*w.scale
		for dy := 0; dy < w.scale; dy++ {
			for dx := 0; dx < w.scale; dx++ {
				img.SetGray(x0+dx, y0+dy, color.Gray{})
			}
		}
	})
	return png.Encode(&w.buf, img)
}

func (w *pngWriter) Close() error { return nil }
